// After setup runvm-vmm keeps no capabilities, and each thread runs under a seccomp
// allow-list for its role; anything else kills the process.
#pragma once

#include "base/result.hpp"

namespace runvm::vmm {

enum class ThreadRole { main, vcpu };

// Empties the bounding, ambient, permitted, effective and inheritable sets of the calling
// thread. Call before any other thread exists, so all inherit the empty sets.
Result<void> drop_capabilities();

// Loads the allow-list for `role` on the calling thread (sets no_new_privs).
Result<void> apply_seccomp(ThreadRole role);

} // namespace runvm::vmm
