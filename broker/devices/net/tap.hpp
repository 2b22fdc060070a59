// Tap: the host end of the device: a tap fd set up for vnet headers, opened by name in the
// broker's network namespace or adopted from the sandbox that created it in another.
#pragma once

#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "broker/devices/net/config.hpp"

namespace runvm::broker::net {

struct Tap {
    UniqueFd fd;
    std::string name;
    TapOffloads offloads;
};

// The place of a tap still to come over tap_socket=: no fd yet, and the offloads the guest
// is offered ahead of it.
inline Tap awaited_tap(TapOffloads offered) {
    return Tap{UniqueFd(), "(none yet)", offered};
}

// Attaches to (or creates) tap `name`: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, single queue.
Result<Tap> open_tap(const std::string& name, bool offloads);
// Takes over `fd` after checking with TUNGETIFF that it is such a tap.
Result<Tap> adopt_tap(UniqueFd fd, bool offloads);

// TUNSETOFFLOAD for what the driver acked (GUEST_CSUM, GUEST_TSO4/6).
Result<void> set_tap_offloads(int fd, uint64_t acked_features);

} // namespace runvm::broker::net
