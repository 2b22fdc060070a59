// Idmapped binds (mount_setattr MOUNT_ATTR_IDMAP, Linux 5.12): a file server in the jail's user
// namespace sees and makes files with their owners as stored on disk.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace runvm::jail {

// Bind `source` at `target` (recursively), idmapped through `userns`, with
// MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC (and RDONLY when readonly). On-disk id
// k is seen as the parent-namespace id that `userns` maps inside id k to, so a process in
// `userns` sees it as k. Every mount of the tree must support idmapping (ext4, xfs, btrfs,
// tmpfs do; overlayfs does not, up to Linux 6.18 at least): otherwise nothing is mounted.
// `userns_fd` -1: the same recursive bind and attributes without the idmapping (the jail's
// host-ids mode, for trees that cannot be idmapped).
Result<void> bind_idmapped(const std::string& source, const std::string& target, int userns_fd,
                           bool readonly);

// Whether the mount holding `dir` and every mount at or under it (in `mountinfo`,
// /proc/self/mountinfo's text) is of a file system that kernel `kernel_release` (uname -r) can
// idmap: ext2/3/4, xfs, vfat from 5.12, btrfs 5.15, f2fs 5.18, tmpfs 6.3 (so not Debian 12's
// 6.1, whose /run is tmpfs). overlayfs, which Docker's and containerd's snapshots are, cannot
// (Linux 6.18).
bool tree_can_be_idmapped(const std::string& dir, std::string_view mountinfo,
                          std::string_view kernel_release);
// The same for the running kernel.
bool tree_can_be_idmapped(const std::string& dir, std::string_view mountinfo);

} // namespace runvm::jail
