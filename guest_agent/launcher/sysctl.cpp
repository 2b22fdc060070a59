// sysctl writes and the UTS names.
#include "guest_agent/launcher/sysctl.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

Result<void> apply_sysctl(const std::map<std::string, std::string>& values) {
    for (const auto& [key, value] : values) {
        if (key.find("..") != std::string::npos || key.find('/') != std::string::npos) {
            return Err(Error::with_errno(EINVAL, "linux.sysctl: bad key \"" + key + "\""));
        }
        std::string path = "/proc/sys/" + key;
        std::replace(path.begin() + 10, path.end(), '.', '/');
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
        if (!fd) {
            return Err(Error::from_errno("open " + path + " (linux.sysctl " + key + ")"));
        }
        RUNVM_TRY(write_all(fd.get(), value.data(), value.size(), path.c_str()));
    }
    return Ok();
}

Result<void> set_hostname(const std::string& name) {
    if (::sethostname(name.data(), name.size()) < 0) {
        return Err(Error::from_errno("sethostname " + name));
    }
    return Ok();
}

Result<void> set_domainname(const std::string& name) {
    if (::setdomainname(name.data(), name.size()) < 0) {
        return Err(Error::from_errno("setdomainname " + name));
    }
    return Ok();
}

} // namespace runvm::agent
