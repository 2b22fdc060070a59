// Mounts the host's virtio-fs share in the guest, once per mount point.
#include "guest_agent/service/shared_fs.hpp"

#include <cerrno>

#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include "guest_agent/launcher/fs_paths.hpp"

namespace runvm::agent {

Result<void> SharedFsMounts::ensure(const runvm::agent::v1::SharedFs& fs) {
    std::lock_guard lock(mu_);
    if (auto it = mounted_.find(fs.mount_point()); it != mounted_.end()) {
        if (it->second != fs.tag()) {
            return Err(Error::with_errno(EBUSY, "shared_fs: " + fs.mount_point() +
                                                    " already holds tag " + it->second));
        }
        return Ok();
    }
    RUNVM_TRY(mkdir_all(fs.mount_point(), 0755));
    // No flags: the container's bind mounts from here take theirs (ro, nosuid) themselves,
    // as runc's binds of host paths do; the host side is nosuid,nodev already.
    if (::mount(fs.tag().c_str(), fs.mount_point().c_str(), "virtiofs", 0, nullptr) != 0) {
        return Err(Error::from_errno(
            "mount virtiofs " + fs.tag() + " on " + fs.mount_point() +
            (errno == ENODEV ? " (no virtiofs driver in the guest kernel)" : "")));
    }
    mounted_[fs.mount_point()] = fs.tag();
    spdlog::info("virtio-fs {} mounted on {}", fs.tag(), fs.mount_point());
    return Ok();
}

} // namespace runvm::agent
