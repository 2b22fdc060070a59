// The broker's seccomp allow-list (libseccomp): everything not listed fails with EPERM.
// docs/broker.md lists each syscall and why it is needed.
#pragma once

#include "base/result.hpp"

namespace runvm::broker {

// Loads the filter into every thread of the process (TSYNC). Needs no_new_privs or
// CAP_SYS_ADMIN; drop_all_capabilities() sets no_new_privs.
Result<void> install_seccomp_filter();

} // namespace runvm::broker
