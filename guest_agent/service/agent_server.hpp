// run_agent: the agent process as a whole, in one of two modes (agent_modes.hpp): PID 1 of
// the guest (agent_pid1_mode.cpp) or --host on a host for tests (agent_host_mode.cpp).
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
