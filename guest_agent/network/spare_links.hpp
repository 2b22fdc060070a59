// Spare links: a pooled VM's network interfaces, there from its boot, before the container
// whose network they will carry exists. Parked in a network namespace of the agent's own,
// they are out of sight of the VM's containers (which share the VM's namespace: a container
// that asked for a new one sees only lo, as with runc) until ConfigureNetwork brings one
// back for an interface that names it as its guest_mac (docs/networking.md, "Pooled VMs").
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent::net {

// Moves each link with one of these MACs from the caller's namespace into the parking one
// (made on first use).
Result<void> park_links(const std::vector<std::array<uint8_t, 6>>& macs);

// Moves the parked link with `mac` back into the caller's namespace; nothing when no parked
// link has it.
Result<void> unpark_link(const std::array<uint8_t, 6>& mac);

} // namespace runvm::agent::net
