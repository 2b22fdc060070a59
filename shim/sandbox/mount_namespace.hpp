// Mounts made in another process's mount namespace: a pod member's rootfs and bind sources
// reach the pod's broker, which lives in a private mount namespace of its own
// (docs/virtiofs.md), as detached mount trees attached there.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

// A detached copy of the mount at `source` (open_tree OPEN_TREE_CLONE; AT_RECURSIVE when
// `recursive`), made nosuid,nodev (and read-only when asked): it can be attached in any
// mount namespace, and nothing of it shows in this one.
Result<UniqueFd> clone_mount_tree(const std::string& source, bool recursive, bool readonly);

struct TreeAttachment {
    int tree_fd = -1;   // from clone_mount_tree
    std::string target; // absolute path in the target namespace (an existing mount point)
};

// Attaches each tree at its target in the mount namespace of `pid` (a short-lived child
// joins it: setns needs a single-threaded caller). Stops at the first failure, whose
// target it names; the ones before stay attached (detach_in_mount_namespace undoes them).
Result<void> attach_in_mount_namespace(pid_t pid, const std::vector<TreeAttachment>& trees);

// Lazily unmounts (MNT_DETACH) each target in the mount namespace of `pid`; targets that
// hold no mount are skipped.
Result<void> detach_in_mount_namespace(pid_t pid, const std::vector<std::string>& targets);

} // namespace runvm::shim
