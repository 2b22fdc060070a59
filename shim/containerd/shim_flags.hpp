// The shim's command line as containerd's runtime v2 shim library defines it (Go `flag`
// syntax: -name value, -name=value, --name, booleans without a value), plus the action.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::containerd {

struct ShimFlags {
    std::string namespace_name; // -namespace
    std::string id;             // -id
    std::string address;        // -address: containerd's gRPC socket
    std::string publish_binary; // -publish-binary
    std::string bundle;         // -bundle (delete); the working directory otherwise
    std::string socket;         // -socket: serve this path instead of fd 3
    bool debug = false;         // -debug
    bool version = false;       // -v
    std::string action;         // "start", "delete", or empty: serve the task API
    // The environment containerd sets: TTRPC_ADDRESS (events go there), GRPC_ADDRESS,
    // NAMESPACE (1.7+ also pass these to `start`).
    std::string ttrpc_address;
    std::string grpc_address;
};

// Parses argv[1..] and the environment; `-namespace` is required (as in containerd).
Result<ShimFlags> parse_shim_flags(const std::vector<std::string>& args);

// The daemon's argv after `start`: the same identity, no action.
std::vector<std::string> daemon_args(const std::string& self, const ShimFlags& flags);

} // namespace runvm::containerd
