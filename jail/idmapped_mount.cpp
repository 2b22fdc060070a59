// open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount (Linux 5.12).
#include "jail/idmapped_mount.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mount.h>

#include "base/unique_fd.hpp"

namespace runvm::jail {

Result<void> bind_idmapped(const std::string& source, const std::string& target, int userns_fd,
                           bool readonly) {
    UniqueFd tree(
        ::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) {
        return Err(Error::from_errno("open_tree " + source));
    }
    // The only user is a file server: it never executes from, opens devices on, or trusts
    // set-user-ID files in what it serves (the broker's own namespace did the same).
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                    (readonly ? static_cast<uint64_t>(MOUNT_ATTR_RDONLY) : 0U);
    attr.userns_fd = static_cast<uint64_t>(userns_fd);
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
        const Error e = Error::from_errno("mount_setattr idmap,nosuid,nodev,noexec" +
                                          std::string(readonly ? ",ro " : " ") + source);
        // EINVAL: a mount of the tree whose file system cannot be idmapped (overlayfs has no
        // FS_ALLOW_IDMAP); EPERM: one that is idmapped already.
        if (e.code() == EINVAL || e.code() == EPERM) {
            return Err(e.context("a mount at or under " + source +
                                 " cannot be idmapped (overlayfs, or idmapped already)"));
        }
        return Err(e);
    }
    if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        return Err(Error::from_errno("move_mount " + source + " on " + target));
    }
    return Ok();
}

} // namespace runvm::jail
