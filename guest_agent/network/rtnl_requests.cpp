// ifinfomsg / ifaddrmsg / rtmsg requests for link, address and route setup.
#include "guest_agent/network/rtnl_requests.hpp"

#include <cerrno>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

namespace runvm::agent::net {

Result<IpAddress> parse_ip(const std::string& text) {
    IpAddress a;
    if (::inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET;
        return a;
    }
    if (::inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET6;
        return a;
    }
    return Err(Error::with_errno(EINVAL, "IP address '" + text + "'"));
}

Result<void> check_prefix(const IpAddress& a, unsigned prefix_len, const std::string& what) {
    const unsigned max = a.family == AF_INET ? 32 : 128;
    if (prefix_len > max) {
        return Err(Error::with_errno(EINVAL, what + ": prefix length " +
                                                 std::to_string(prefix_len) + " > " +
                                                 std::to_string(max)));
    }
    return Ok();
}

NetlinkMessage link_request(uint32_t seq, int index, const std::string& new_name, uint32_t mtu,
                            bool up, const std::array<uint8_t, 6>* mac) {
    NetlinkMessage m(RTM_NEWLINK, 0, seq);
    ifinfomsg h{};
    h.ifi_family = AF_UNSPEC;
    h.ifi_index = index;
    h.ifi_flags = up ? IFF_UP : 0;
    h.ifi_change = IFF_UP;
    m.put_header(h);
    if (!new_name.empty()) {
        m.put_string(IFLA_IFNAME, new_name);
    }
    if (mtu != 0) {
        m.put_u32(IFLA_MTU, mtu);
    }
    if (mac != nullptr) {
        m.put_attr(IFLA_ADDRESS, mac->data(), mac->size());
    }
    return m;
}

NetlinkMessage move_link_request(uint32_t seq, int index, int netns_fd) {
    NetlinkMessage m(RTM_NEWLINK, 0, seq);
    ifinfomsg h{};
    h.ifi_family = AF_UNSPEC;
    h.ifi_index = index;
    h.ifi_change = IFF_UP;
    m.put_header(h);
    m.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
    return m;
}

NetlinkMessage address_request(uint32_t seq, int index, const IpAddress& address,
                               unsigned prefix_len) {
    NetlinkMessage m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq);
    ifaddrmsg h{};
    h.ifa_family = static_cast<uint8_t>(address.family);
    h.ifa_prefixlen = static_cast<uint8_t>(prefix_len);
    h.ifa_scope = RT_SCOPE_UNIVERSE;
    h.ifa_index = static_cast<uint32_t>(index);
    if (address.family == AF_INET6) {
        h.ifa_flags = IFA_F_NODAD;
    }
    m.put_header(h);
    m.put_attr(IFA_LOCAL, address.bytes.data(), address.size());
    m.put_attr(IFA_ADDRESS, address.bytes.data(), address.size());
    if (address.family == AF_INET6) {
        m.put_u32(IFA_FLAGS, IFA_F_NODAD);
    }
    return m;
}

NetlinkMessage route_request(uint32_t seq, int index, const IpAddress& destination,
                             unsigned prefix_len, const IpAddress* gateway, uint32_t metric) {
    NetlinkMessage m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
    rtmsg h{};
    h.rtm_family = static_cast<uint8_t>(destination.family);
    h.rtm_dst_len = static_cast<uint8_t>(prefix_len);
    h.rtm_table = RT_TABLE_MAIN;
    h.rtm_protocol = RTPROT_BOOT;
    h.rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    h.rtm_type = RTN_UNICAST;
    m.put_header(h);
    if (prefix_len > 0) {
        m.put_attr(RTA_DST, destination.bytes.data(), destination.size());
    }
    if (gateway) {
        m.put_attr(RTA_GATEWAY, gateway->bytes.data(), gateway->size());
    }
    m.put_u32(RTA_OIF, static_cast<uint32_t>(index));
    if (metric != 0) {
        m.put_u32(RTA_PRIORITY, metric);
    }
    return m;
}

} // namespace runvm::agent::net
