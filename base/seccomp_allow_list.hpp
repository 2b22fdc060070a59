// The one loader of default-deny seccomp filters (libseccomp) built from an allow-list: the
// jail's profiles and the broker's own filter. What the list does not allow fails with EPERM.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"

namespace runvm {

// Allows syscall `nr` only while its argument `arg` (0 to 5) equals `value`:
// socket(AF_UNIX, ...), tgkill(own pid, ...).
struct SeccompArgEquals {
    int nr = 0;
    unsigned arg = 0;
    std::uint64_t value = 0;
};

// Who gets the filter: the calling thread, or every thread of the process (TSYNC).
enum class SeccompThreads { caller, all };

// Loads the filter on top of any the process has: `syscalls` allowed whatever their arguments,
// `arg_rules` for one argument value. libseccomp sets no_new_privs first (its default), so
// no capability is needed. `what` names the filter in errors.
Result<void> load_seccomp_allow_list(const std::string& what, std::span<const int> syscalls,
                                     std::span<const SeccompArgEquals> arg_rules = {},
                                     SeccompThreads threads = SeccompThreads::caller);

} // namespace runvm
