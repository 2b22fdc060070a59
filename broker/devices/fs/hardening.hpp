// What a broker serving virtio-fs keeps after setup: the file capabilities the FUSE
// operations need (docs/virtiofs.md says why each) and the extra syscalls they make.
#pragma once

#include <vector>

#include "base/result.hpp"

namespace runvm::broker::fs {

// Like drop_all_capabilities(), but CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER and
// CAP_FSETID stay effective and permitted where the broker had them (as root); the
// bounding and ambient sets are emptied and no_new_privs is set.
Result<void> keep_only_fs_capabilities();

// The syscalls the fs device makes beyond the broker's allow-list (libseccomp numbers).
const std::vector<int>& fs_extra_syscalls();

} // namespace runvm::broker::fs
