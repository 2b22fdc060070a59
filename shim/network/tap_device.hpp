// Creating the tap a sandbox hands to the broker: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one
// queue, in the calling thread's network namespace.
#pragma once

#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::network {

// A persistent tap outlives the fd (the broker then opens it by name in that namespace);
// otherwise it goes with the last fd, so a crashed sandbox leaves no tap behind.
Result<UniqueFd> create_tap(const std::string& name, bool persist);

} // namespace runvm::network
