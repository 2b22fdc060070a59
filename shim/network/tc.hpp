// Traffic control through rtnetlink, as Kata's tc-filter model uses it: an ingress qdisc on
// an interface and a catch-all u32 filter whose mirred action redirects every frame to
// another interface's egress.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shim/network/netlink_socket.hpp"

namespace runvm::network {

// Our filters carry this priority, so a cleanup after a crash finds exactly ours.
inline constexpr uint16_t REDIRECT_FILTER_PRIO = 0x7276; // "rv"

struct IngressFilter {
    uint16_t prio = 0;
    std::string kind;         // "u32"
    int redirect_ifindex = 0; // mirred egress redirect target, 0 when none
};

// tc qdisc add dev <index> ingress
Result<void> add_ingress_qdisc(NetlinkSocket& nl, int ifindex);
// tc qdisc del dev <index> ingress (its filters go with it); absent is not an error.
Result<void> delete_ingress_qdisc(NetlinkSocket& nl, int ifindex);
Result<bool> has_ingress_qdisc(NetlinkSocket& nl, int ifindex);

// tc filter add dev <from> parent ffff: protocol all prio REDIRECT_FILTER_PRIO
//   u32 match u8 0 0 action mirred egress redirect dev <to>
Result<void> add_redirect_filter(NetlinkSocket& nl, int from_ifindex, int to_ifindex);
// The filters under the ingress qdisc of `ifindex` that carry an action.
Result<std::vector<IngressFilter>> list_ingress_filters(NetlinkSocket& nl, int ifindex);

} // namespace runvm::network
