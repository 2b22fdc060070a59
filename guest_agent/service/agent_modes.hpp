// The agent's two modes behind run_agent: PID 1 of the guest, and --host on a host (tests).
#pragma once

#include "guest_agent/service/agent_server.hpp"

namespace runvm::agent {

// Before any thread: blocks SIGCHLD (for the reaper) and SIGTERM/SIGINT (for sigwait),
// ignores SIGPIPE and sets up logging at `default_level` unless one was asked for.
void prepare_agent_process(const AgentRunOptions& options, const char* default_level);
// Waits for SIGTERM or SIGINT; PID 1 ignores them (it ends by DestroySandbox), so with
// `ignore` true this never returns.
void wait_for_stop_signal(bool ignore);

// Boots the guest (mounts, modules, network), serves on vsock port 1024; never returns.
int run_pid1_agent(const AgentRunOptions& options);
// Serves on options.socket_path in a private mount namespace until SIGTERM or SIGINT;
// returns the process exit code.
int run_host_agent(const AgentRunOptions& options);

} // namespace runvm::agent
