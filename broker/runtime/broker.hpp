// The runvm-broker process: parses device specs, serves each device on its own thread,
// hardens itself, and exits cleanly on SIGTERM/SIGINT or when its parent dies.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace runvm::broker {

struct BrokerOptions {
    // The specs given for each device of the table (device_registry): "blk" -> the
    // "<sock>,path=..." of every --blk.
    std::map<std::string, std::vector<std::string>> devices;
    bool harden = true; // drop capabilities and load the seccomp filter
    // Started by runvm-jail (docs/security.md, "Jail"): already in a mount namespace that
    // holds only what the devices use (the shares idmapped, nosuid,nodev,noexec), as the jail
    // user's root in a user namespace, where it could not mount its own.
    bool jailed = false;
};

// Exit codes of runvm-broker.
inline constexpr int EXIT_CLEAN = 0;   // signal or parent death, sockets removed
inline constexpr int EXIT_SETUP = 1;   // a device, socket or the hardening failed to set up
inline constexpr int EXIT_USAGE = 2;   // bad command line
inline constexpr int EXIT_RUNTIME = 3; // waiting for signals failed

int run_broker(const BrokerOptions& options);

} // namespace runvm::broker
