// Moving PID 1 off the initramfs root onto a tmpfs.
#include "guest_agent/pid1/initramfs_root.hpp"

#include <cerrno>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/error.hpp"

namespace runvm::agent {

bool initial_root_is_initramfs(int64_t f_type) {
    return f_type == RAMFS_MAGIC || f_type == TMPFS_MAGIC;
}

Result<void> switch_to_tmpfs_root(const std::string& new_root) {
    if (::mkdir(new_root.c_str(), 0755) < 0 && errno != EEXIST) {
        return Err(Error::from_errno("mkdir " + new_root));
    }
    if (::mount("tmpfs", new_root.c_str(), "tmpfs", 0, "mode=0755") < 0) {
        return Err(Error::from_errno("mount tmpfs on " + new_root));
    }
    for (const char* d : {"/dev", "/proc", "/sys", "/run", "/tmp", "/mnt", "/etc"}) {
        const std::string path = new_root + d;
        if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + path));
        }
    }
    if (::chdir(new_root.c_str()) < 0) {
        return Err(Error::from_errno("chdir " + new_root));
    }
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) {
        return Err(Error::from_errno("mount --move " + new_root + " to /"));
    }
    if (::chroot(".") < 0) {
        return Err(Error::from_errno("chroot " + new_root));
    }
    if (::chdir("/") < 0) {
        return Err(Error::from_errno("chdir / after chroot"));
    }
    return Ok();
}

Result<void> leave_initramfs_root(const std::string& new_root) {
    struct statfs root {};
    if (::statfs("/", &root) < 0) {
        return Err(Error::from_errno("statfs /"));
    }
    if (!initial_root_is_initramfs(static_cast<int64_t>(root.f_type))) {
        return Ok();
    }
    return switch_to_tmpfs_root(new_root);
}

} // namespace runvm::agent
