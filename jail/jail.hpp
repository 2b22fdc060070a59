// run_jail: the jailer's steps in order (user, namespaces, root, pivot, credentials, seccomp,
// exec); each failure names its step.
#pragma once

#include "base/result.hpp"
#include "jail/jail_spec.hpp"

namespace runvm::jail {

// Does not return on success (the program replaced this process). Single-threaded callers
// only: unshare(CLONE_NEWNS) and the uid switch are per thread before exec.
Result<void> run_jail(const JailSpec& spec);

} // namespace runvm::jail
