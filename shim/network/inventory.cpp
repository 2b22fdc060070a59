// RTM_GETADDR and RTM_GETROUTE dumps.
#include "shim/network/inventory.hpp"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

namespace runvm::network {

namespace {

std::string ip_text(int family, const nlattr* a) {
    const size_t len = family == AF_INET ? 4 : 16;
    const uint8_t* raw = attr_bytes(a, len);
    if (raw == nullptr) {
        return "";
    }
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, raw, buf, sizeof(buf));
    return buf;
}

} // namespace

Result<std::vector<Address>> list_addresses(NetlinkSocket& nl) {
    NetlinkMessage msg(RTM_GETADDR, 0);
    msg.family_header<ifaddrmsg>()->ifa_family = AF_UNSPEC;
    std::vector<Address> out;
    RUNVM_TRY(nl.dump(
        msg,
        [&](const nlmsghdr* nlh) {
            if (nlh->nlmsg_type != RTM_NEWADDR ||
                mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg)) {
                return;
            }
            const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
            if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
                ifa->ifa_scope >= RT_SCOPE_LINK) {
                return;
            }
            const AttrTable a = parse_attrs(nlh, sizeof(ifaddrmsg));
            // IPv4 keeps the interface's own address in IFA_LOCAL (IFA_ADDRESS is the peer
            // on point-to-point links).
            const nlattr* addr = a[IFA_LOCAL] != nullptr ? a[IFA_LOCAL] : a[IFA_ADDRESS];
            Address x;
            x.family = ifa->ifa_family;
            x.address = ip_text(x.family, addr);
            x.prefix_len = ifa->ifa_prefixlen;
            x.link_index = static_cast<int>(ifa->ifa_index);
            if (!x.address.empty()) {
                out.push_back(std::move(x));
            }
        },
        "RTM_GETADDR dump"));
    return out;
}

Result<std::vector<Route>> list_routes(NetlinkSocket& nl) {
    NetlinkMessage msg(RTM_GETROUTE, 0);
    msg.family_header<rtmsg>()->rtm_family = AF_UNSPEC;
    std::vector<Route> out;
    RUNVM_TRY(nl.dump(
        msg,
        [&](const nlmsghdr* nlh) {
            if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg)) {
                return;
            }
            const auto* rt = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
            const AttrTable a = parse_attrs(nlh, sizeof(rtmsg));
            const uint32_t table = attr_u32(a[RTA_TABLE]).value_or(rt->rtm_table);
            if ((rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) ||
                table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST) {
                return;
            }
            Route r;
            r.family = rt->rtm_family;
            r.destination = ip_text(r.family, a[RTA_DST]);
            r.prefix_len = rt->rtm_dst_len;
            r.gateway = ip_text(r.family, a[RTA_GATEWAY]);
            r.link_index = static_cast<int>(attr_u32(a[RTA_OIF]).value_or(0));
            r.scope = rt->rtm_scope;
            r.protocol = rt->rtm_protocol;
            r.metric = attr_u32(a[RTA_PRIORITY]).value_or(0);
            if (r.family == AF_INET6 &&
                (r.destination.rfind("fe80:", 0) == 0 || r.destination.rfind("ff", 0) == 0)) {
                return;
            }
            out.push_back(std::move(r));
        },
        "RTM_GETROUTE dump"));
    return out;
}

} // namespace runvm::network
