// The rtnetlink requests the agent sends to set up the guest's interfaces: link (name, MTU,
// up), address and route. Pure builders, so the bytes can be checked without a kernel.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <sys/socket.h>

#include "base/result.hpp"
#include "guest_agent/network/rtnl_message.hpp"

namespace runvm::agent::net {

struct IpAddress {
    int family = 0; // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
    size_t size() const { return family == AF_INET ? 4 : 16; }
};

// "10.0.0.2" or "fd00::2"; prefix_len must fit the family (<= 32 or <= 128).
Result<IpAddress> parse_ip(const std::string& text);
Result<void> check_prefix(const IpAddress& a, unsigned prefix_len, const std::string& what);

// RTM_NEWLINK on an existing index: optional new name (empty: kept), MTU (0: kept), MAC
// (nullptr: kept), and IFF_UP set or cleared.
NetlinkMessage link_request(uint32_t seq, int index, const std::string& new_name, uint32_t mtu,
                            bool up, const std::array<uint8_t, 6>* mac = nullptr);
// RTM_NEWLINK that moves link `index` (down) into the network namespace `netns_fd` names.
NetlinkMessage move_link_request(uint32_t seq, int index, int netns_fd);
// RTM_NEWADDR: IFA_LOCAL/IFA_ADDRESS; IPv6 without duplicate address detection (the host
// namespace owned this address already; DAD would only delay its use by a second or more).
NetlinkMessage address_request(uint32_t seq, int index, const IpAddress& address,
                               unsigned prefix_len);
// RTM_NEWROUTE in the main table: a gateway route (scope universe) when `gateway` is set,
// else on-link (scope link); destination with prefix_len 0 is the default route.
NetlinkMessage route_request(uint32_t seq, int index, const IpAddress& destination,
                             unsigned prefix_len, const IpAddress* gateway, uint32_t metric);

} // namespace runvm::agent::net
