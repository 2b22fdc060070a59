// run_agent: the agent process as a whole: PID 1 boot (guest) or a private mount namespace
// (host mode), the reaper, the ttRPC server on vsock 1024 or a Unix socket, until stopped.
#pragma once

#include <cstdint>
#include <string>

namespace runvm::agent {

inline constexpr uint32_t kAgentVsockPort = 1024;

struct AgentRunOptions {
    bool host_mode = false;
    std::string socket_path; // host mode: the ttRPC Unix socket
    std::string stdio_dir;   // host mode: stdio streams connect to <stdio_dir>/vsock_<port>
    std::string state_dir = "/run/runvm-agent";
    // Empty: "warn" as the guest's PID 1, whose log is the serial console (every line is
    // cold formatting and tty code under TCG, and each character a port write), else "info".
    std::string log_level;
};

// Returns the process exit code (host mode); as PID 1 it never returns.
int run_agent(const AgentRunOptions& options);

} // namespace runvm::agent
