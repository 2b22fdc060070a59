// setrlimit per entry; oom_score_adj through /proc/self.
#include "guest_agent/launcher/rlimits.hpp"

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/resource.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

Result<int> rlimit_from_name(const std::string& name) {
    static const std::pair<const char*, int> names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    for (const auto& [n, v] : names) {
        if (name == n) {
            return v;
        }
    }
    return Err(Error::with_errno(EINVAL, "unknown rlimit \"" + name + "\""));
}

Result<void> apply_rlimits(const std::vector<oci::Rlimit>& limits) {
    for (size_t i = 0; i < limits.size(); ++i) {
        const std::string field = "process.rlimits[" + std::to_string(i) + "]";
        auto res = rlimit_from_name(limits[i].type);
        if (!res.ok()) {
            return Err(std::move(res).error().context(field + ".type"));
        }
        rlimit rl{limits[i].soft, limits[i].hard};
        if (::setrlimit(static_cast<__rlimit_resource>(*res), &rl) < 0) {
            return Err(Error::from_errno("setrlimit " + limits[i].type));
        }
    }
    return Ok();
}

Result<void> apply_oom_score_adj(int value) {
    UniqueFd fd(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /proc/self/oom_score_adj"));
    }
    const std::string text = std::to_string(value);
    return write_all(fd.get(), text.data(), text.size(), "/proc/self/oom_score_adj");
}

} // namespace runvm::agent
