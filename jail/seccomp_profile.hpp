// The default-deny seccomp allow-lists the jail installs last, one per kind of program; what is
// not listed fails with EPERM. docs/security.md ("Jail") says where each list came from.
#pragma once

#include <span>
#include <vector>

#include "base/result.hpp"
#include "jail/jail_spec.hpp"

namespace runvm::jail {

// The syscall numbers `profile` allows (empty for none), sorted, without duplicates. Each list
// holds the dynamic loader's start-up and the one execve into the program.
std::vector<int> profile_syscalls(SeccompProfile profile);

// Syscalls no profile may allow: the ones that change mounts, namespaces, kernel state or
// other processes (tested against every list).
std::span<const int> forbidden_syscalls();

// Loads the filter (needs no_new_privs, which drop_to set). Beyond the list: socket() only
// for AF_UNIX, tgkill() only to this process's threads.
Result<void> install_profile(SeccompProfile profile);

} // namespace runvm::jail
