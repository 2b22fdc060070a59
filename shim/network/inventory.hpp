// What a namespace's interfaces carry for the guest: IP addresses and main-table routes.
#pragma once

#include <string>
#include <vector>

#include "shim/network/netlink_socket.hpp"

namespace runvm::network {

struct Address {
    int family = 0;      // AF_INET or AF_INET6
    std::string address; // "10.0.0.2"
    unsigned prefix_len = 0;
    int link_index = 0;
};

struct Route {
    int family = 0;
    std::string destination; // "" for the default route
    unsigned prefix_len = 0;
    std::string gateway;   // "" for an on-link route
    int link_index = 0;    // 0: none given
    unsigned scope = 0;    // RT_SCOPE_*
    unsigned protocol = 0; // RTPROT_* (2: made by the kernel from an address)
    uint32_t metric = 0;
};

// Global and site addresses (link-local IPv6 ones are the guest's own to make).
Result<std::vector<Address>> list_addresses(NetlinkSocket& nl);
// Unicast routes of the main table, except IPv6 link-local and multicast ones.
Result<std::vector<Route>> list_routes(NetlinkSocket& nl);

} // namespace runvm::network
