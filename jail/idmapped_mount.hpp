// Idmapped binds (mount_setattr MOUNT_ATTR_IDMAP, Linux 5.12): a file server in the jail's user
// namespace sees and makes files with their owners as stored on disk.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::jail {

// Bind `source` at `target` (recursively), idmapped through `userns`, with
// MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC (and RDONLY when readonly). On-disk id
// k is seen as the parent-namespace id that `userns` maps inside id k to, so a process in
// `userns` sees it as k. Every mount of the tree must support idmapping (ext4, xfs, btrfs,
// tmpfs do; overlayfs does not, up to Linux 6.18 at least): otherwise nothing is mounted.
Result<void> bind_idmapped(const std::string& source, const std::string& target, int userns_fd,
                           bool readonly);

} // namespace runvm::jail
