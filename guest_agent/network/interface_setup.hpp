// Applying a NetworkSpec to the guest's own network namespace with rtnetlink: each virtio-net
// interface found by MAC, renamed, given MTU and addresses and set up; then the routes, and
// /etc/resolv.conf and /etc/hosts.
#pragma once

#include <string>

#include "base/result.hpp"
#include "guest_agent/network/network_spec.hpp"

namespace runvm::agent::net {

// The index of the interface with this MAC, or ENODEV.
Result<int> find_link_by_mac(const std::array<uint8_t, 6>& mac);

// etc_dir: where resolv.conf and hosts go ("/etc" in the guest).
Result<void> apply_network(const NetworkSpec& spec, const std::string& etc_dir = "/etc");

} // namespace runvm::agent::net
