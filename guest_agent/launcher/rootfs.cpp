// Rootfs preparation and pivot_root, in the order runc's prepareRoot/pivotRoot use.
#include "guest_agent/launcher/rootfs.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "guest_agent/launcher/mount_options.hpp"

namespace runvm::agent {

namespace {
// The parent mount of the rootfs must not be shared, or pivot_root fails with EINVAL.
Result<void> make_parent_mount_private(const std::string& rootfs) {
    std::string dir = rootfs;
    for (;;) {
        if (::mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) {
            return Ok();
        }
        if (errno != EINVAL || dir == "/") {
            return Err(Error::from_errno("make parent mount private " + dir));
        }
        const auto slash = dir.rfind('/');
        dir = slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
    }
}
} // namespace

Result<void> prepare_rootfs(const std::string& rootfs,
                            const std::optional<std::string>& propagation) {
    unsigned long flag = MS_SLAVE | MS_REC;
    if (propagation && !propagation->empty()) {
        RUNVM_ASSIGN_OR_RETURN(flag, parse_propagation(*propagation));
    }
    if (::mount(nullptr, "/", nullptr, flag, nullptr) < 0) {
        return Err(Error::from_errno("mount propagation of /"));
    }
    RUNVM_TRY(make_parent_mount_private(rootfs));
    if (::mount(rootfs.c_str(), rootfs.c_str(), "bind", MS_BIND | MS_REC, nullptr) < 0) {
        return Err(Error::from_errno("bind rootfs " + rootfs));
    }
    return Ok();
}

Result<void> pivot_into(const std::string& rootfs) {
    UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!old_root) {
        return Err(Error::from_errno("open /"));
    }
    UniqueFd new_root(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!new_root) {
        return Err(Error::from_errno("open rootfs " + rootfs));
    }
    if (::fchdir(new_root.get()) < 0) {
        return Err(Error::from_errno("chdir " + rootfs));
    }
    if (::syscall(SYS_pivot_root, ".", ".") < 0) {
        return Err(Error::from_errno("pivot_root " + rootfs));
    }
    // The old root is now stacked under "."; detach it without touching the host's mounts.
    if (::fchdir(old_root.get()) < 0) {
        return Err(Error::from_errno("fchdir old root"));
    }
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
        return Err(Error::from_errno("make old root rslave"));
    }
    if (::umount2(".", MNT_DETACH) < 0) {
        return Err(Error::from_errno("umount old root"));
    }
    if (::chdir("/") < 0) {
        return Err(Error::from_errno("chdir /"));
    }
    return Ok();
}

Result<void> apply_root_propagation(const std::optional<std::string>& propagation) {
    if (!propagation || propagation->empty()) {
        return Ok();
    }
    RUNVM_ASSIGN_OR_RETURN(const unsigned long flag, parse_propagation(*propagation));
    if (::mount(nullptr, "/", nullptr, flag, nullptr) < 0) {
        return Err(Error::from_errno("mount propagation " + *propagation + " of /"));
    }
    return Ok();
}

} // namespace runvm::agent
