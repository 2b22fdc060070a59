// RTM_GETLINK / RTM_NEWLINK / RTM_DELLINK.
#include "shim/network/links.hpp"

#include <cstring>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace runvm::network {

Result<std::vector<Link>> list_links(NetlinkSocket& nl) {
    NetlinkMessage msg(RTM_GETLINK, 0);
    msg.family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    std::vector<Link> links;
    RUNVM_TRY(nl.dump(
        msg,
        [&](const nlmsghdr* nlh) {
            if (nlh->nlmsg_type != RTM_NEWLINK ||
                mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) {
                return;
            }
            const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
            const AttrTable a = parse_attrs(nlh, sizeof(ifinfomsg));
            Link l;
            l.index = ifi->ifi_index;
            l.type = ifi->ifi_type;
            l.flags = ifi->ifi_flags;
            l.name = attr_str(a[IFLA_IFNAME]).value_or("");
            l.mtu = attr_u32(a[IFLA_MTU]).value_or(0);
            if (const uint8_t* mac = attr_bytes(a[IFLA_ADDRESS], 6)) {
                std::memcpy(l.mac.data(), mac, 6);
                l.has_mac = true;
            }
            l.kind = attr_str(parse_nested(a[IFLA_LINKINFO])[IFLA_INFO_KIND]).value_or("");
            links.push_back(std::move(l));
        },
        "RTM_GETLINK dump"));
    return links;
}

Result<void> set_link_up(NetlinkSocket& nl, int index, uint32_t mtu) {
    NetlinkMessage msg(RTM_NEWLINK, 0);
    auto* ifi = msg.family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (mtu != 0) {
        mnl_attr_put_u32(msg.header(), IFLA_MTU, mtu);
    }
    return nl.request(msg, "RTM_NEWLINK up ifindex " + std::to_string(index));
}

Result<void> delete_link(NetlinkSocket& nl, int index) {
    NetlinkMessage msg(RTM_DELLINK, 0);
    auto* ifi = msg.family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    return nl.request(msg, "RTM_DELLINK ifindex " + std::to_string(index));
}

} // namespace runvm::network
