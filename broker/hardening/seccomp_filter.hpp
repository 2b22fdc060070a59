// The broker's seccomp allow-list (libseccomp): everything not listed fails with EPERM.
// docs/broker.md lists each syscall and why it is needed.
#pragma once

#include <span>

#include "base/result.hpp"
#include "base/seccomp_allow_list.hpp"

namespace runvm::broker {

// Loads the filter into every thread of the process (TSYNC). Needs no_new_privs or
// CAP_SYS_ADMIN; drop_all_capabilities() sets no_new_privs. `extra`: syscalls a device adds
// to the list (virtio-fs: the file operations it makes for the guest; docs/virtiofs.md);
// `extra_rules`: syscalls a device adds for one argument value (a net device's tap ioctls).
Result<void> install_seccomp_filter(std::span<const int> extra = {},
                                    std::span<const SeccompArgEquals> extra_rules = {});

} // namespace runvm::broker
