// The runvm-broker process: parses device specs, serves each device on its own thread,
// hardens itself, and exits cleanly on SIGTERM/SIGINT or when its parent dies.
#pragma once

#include <string>
#include <vector>

namespace runvm::broker {

struct BrokerOptions {
    std::vector<std::string> vsock;   // "<sock>,uds=<path>,cid=<n>"
    std::vector<std::string> blk;     // "<sock>,path=<image>[,ro][,nodiscard][,serial=<id>]"
    std::vector<std::string> console; // "<sock>,log=<file>"
    std::vector<std::string> net;     // "<sock>,tap=<name>|fd=<n>[,mac=..][,mtu=..][,nooffload]"
    std::vector<std::string> fs;      // "<sock>,dir=<shared dir>,tag=<tag>[,cache=..][,ro]"
    bool harden = true;               // drop capabilities and load the seccomp filter
};

// Exit codes of runvm-broker.
inline constexpr int EXIT_CLEAN = 0;   // signal or parent death, sockets removed
inline constexpr int EXIT_SETUP = 1;   // a device, socket or the hardening failed to set up
inline constexpr int EXIT_USAGE = 2;   // bad command line
inline constexpr int EXIT_RUNTIME = 3; // waiting for signals failed

int run_broker(const BrokerOptions& options);

} // namespace runvm::broker
