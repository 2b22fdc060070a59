// Masked and read-only paths, following runc's maskPath/readonlyPath.
#include "guest_agent/launcher/masked_paths.hpp"

#include <cerrno>

#include <sys/mount.h>

#include "guest_agent/launcher/mounts.hpp"

namespace runvm::agent {

Result<void> mask_paths(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        if (::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr) == 0) {
            continue;
        }
        if (errno == ENOENT) {
            continue;
        }
        if (errno != ENOTDIR) {
            return Err(Error::from_errno("mask " + p));
        }
        if (::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) {
            return Err(Error::from_errno("mask directory " + p));
        }
    }
    return Ok();
}

Result<void> make_paths_readonly(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
            if (errno == ENOENT) {
                continue;
            }
            return Err(Error::from_errno("bind readonly path " + p));
        }
        RUNVM_TRY(remount_readonly(p));
    }
    return Ok();
}

} // namespace runvm::agent
