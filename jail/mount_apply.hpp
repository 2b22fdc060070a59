// Carries out a MountPlan on a fresh tmpfs and pivots into it: the syscall half of the jail's
// root (mount_plan.hpp is the data half).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "jail/mount_plan.hpp"

namespace runvm::jail {

// Makes `idmap_bind` steps: source, target (host path of the mount point), read-only.
using IdmapBinder =
    std::function<Result<void>(const std::string&, const std::string&, bool readonly)>;

// In a private mount namespace (the caller unshared it and made / rprivate): a small tmpfs on
// `root`, then each step below it. `idmap` may be empty when the plan has no idmap_bind.
Result<void> apply_mount_plan(const std::string& root, const std::vector<MountStep>& plan,
                              const IdmapBinder& idmap);

// pivot_root into `root`, the old root detached, / made read-only, cwd /.
Result<void> pivot_into(const std::string& root);

} // namespace runvm::jail
