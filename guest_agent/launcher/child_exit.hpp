// How a launcher child ends: a failed step reported to the launcher, or the exec of the
// container's process.
#pragma once

#include "base/error.hpp"
#include "guest_agent/launcher/process_setup.hpp"
#include "guest_agent/launcher/sync_channel.hpp"

namespace runvm::agent {

// Sends the step and its error to the launcher and exits with `code`.
[[noreturn]] void fail_step(const SyncChannel& sync, const char* step, const Error& e,
                            int code = 1);

// execve of the set-up target; on failure reports "exec" and exits 127 (not found) or 126,
// as a shell does.
[[noreturn]] void exec_target(const SyncChannel& sync, ExecTarget& target);

} // namespace runvm::agent
