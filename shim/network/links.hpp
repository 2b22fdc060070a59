// Network interfaces through rtnetlink: list them with MAC, MTU and kind, bring one up,
// delete one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "shim/network/netlink_socket.hpp"

namespace runvm::network {

struct Link {
    int index = 0;
    std::string name;
    std::array<uint8_t, 6> mac{};
    bool has_mac = false;
    uint32_t mtu = 0;
    std::string kind;   // IFLA_INFO_KIND: "veth", "tun", "" for none
    uint16_t type = 0;  // ARPHRD_*
    uint32_t flags = 0; // IFF_*
};

Result<std::vector<Link>> list_links(NetlinkSocket& nl);
// Sets IFF_UP, and the MTU when it is not 0.
Result<void> set_link_up(NetlinkSocket& nl, int index, uint32_t mtu);
Result<void> delete_link(NetlinkSocket& nl, int index);

} // namespace runvm::network
