// Fork+exec from the multi-threaded shim: only async-signal-safe calls between fork and
// exec (dup2, sigprocmask, setpgid, execv), everything else prepared before the fork.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/process_handle.hpp"
#include "base/result.hpp"

namespace runvm::containerd {

struct SpawnSpec {
    std::vector<std::string> argv;           // argv[0] is a path (execv, no PATH search)
    std::array<int, 3> stdio = {-1, -1, -1}; // -1: /dev/null
    int extra_fd = -1; // becomes fd 3 (the shim's listening socket for the daemon)
    bool new_session = false;
    std::string cwd; // empty: inherit
};

// Starts the child with every signal unblocked and default dispositions restored; the
// caller reaps it (through the Reaper in the daemon) and signals it through the handle,
// which cannot reach another process once the Reaper reaped this one.
Result<ProcessHandle> spawn_process(const SpawnSpec& spec);

} // namespace runvm::containerd
