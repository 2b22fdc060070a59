// setrlimit per entry; oom_score_adj through /proc/self.
#include "guest_agent/launcher/rlimits.hpp"

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/resource.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "oci/names.hpp"

namespace runvm::agent {

Result<int> rlimit_from_name(const std::string& name) {
    if (const auto resource = oci::rlimit_resource(name)) {
        return *resource;
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
