// The broker's own mount namespace: a read-only tmpfs root holding bind mounts of only the
// directories its devices still reach by path once set up (docs/virtiofs.md, Confinement).
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::broker {

// A host directory the broker keeps at the same path inside its namespace.
struct KeptDirectory {
    // As the devices spell it: bound from its realpath onto this path made absolute
    // (relative to the working directory, which is kept where it still exists).
    std::string path;
    bool readonly = false;
};

// unshare(CLONE_NEWNS), / made rprivate, a tmpfs pivoted in as the new root holding
// `kept` (rbind, remounted nosuid,nodev,noexec[,ro]) and a read-only /proc (hidepid=
// invisible, subset=pid: the broker's own /proc/self/fd only), the old root detached and
// the tmpfs remounted read-only. Needs CAP_SYS_ADMIN (an error with code EPERM without it,
// before anything changed) and a single-threaded caller (CLONE_NEWNS unshares CLONE_FS).
// Anything opened before stays usable; paths resolve in the new root afterwards.
// `kept` must not resolve to "/".
Result<void> enter_share_namespace(const std::vector<KeptDirectory>& kept);

} // namespace runvm::broker
