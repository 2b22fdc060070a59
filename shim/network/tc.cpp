// RTM_{NEW,DEL,GET}QDISC and RTM_{NEW,GET}TFILTER for the ingress redirect.
#include "shim/network/tc.hpp"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

namespace runvm::network {

namespace {

constexpr uint32_t INGRESS_HANDLE = 0xffff0000U; // "ffff:"

tcmsg* ingress_header(NetlinkMessage& msg, int ifindex) {
    auto* tc = msg.family_header<tcmsg>();
    tc->tcm_family = AF_UNSPEC;
    tc->tcm_ifindex = ifindex;
    tc->tcm_handle = INGRESS_HANDLE;
    tc->tcm_parent = TC_H_INGRESS;
    return tc;
}

} // namespace

Result<void> add_ingress_qdisc(NetlinkSocket& nl, int ifindex) {
    NetlinkMessage msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
    ingress_header(msg, ifindex);
    mnl_attr_put_strz(msg.header(), TCA_KIND, "ingress");
    mnl_attr_put(msg.header(), TCA_OPTIONS, 0, nullptr);
    return nl.request(msg, "RTM_NEWQDISC ingress ifindex " + std::to_string(ifindex) +
                               " (needs sch_ingress)");
}

Result<void> delete_ingress_qdisc(NetlinkSocket& nl, int ifindex) {
    NetlinkMessage msg(RTM_DELQDISC, 0);
    ingress_header(msg, ifindex);
    auto r = nl.request(msg, "RTM_DELQDISC ingress ifindex " + std::to_string(ifindex));
    if (!r &&
        (r.error().code() == ENOENT || r.error().code() == EINVAL || r.error().code() == ENODEV)) {
        return Ok();
    }
    return r;
}

Result<bool> has_ingress_qdisc(NetlinkSocket& nl, int ifindex) {
    NetlinkMessage msg(RTM_GETQDISC, 0);
    msg.family_header<tcmsg>()->tcm_family = AF_UNSPEC;
    bool found = false;
    RUNVM_TRY(nl.dump(
        msg,
        [&](const nlmsghdr* nlh) {
            if (nlh->nlmsg_type != RTM_NEWQDISC || mnl_nlmsg_get_payload_len(nlh) < sizeof(tcmsg)) {
                return;
            }
            const auto* tc = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
            const AttrTable a = parse_attrs(nlh, sizeof(tcmsg));
            found = found || (tc->tcm_ifindex == ifindex && tc->tcm_parent == TC_H_INGRESS &&
                              attr_str(a[TCA_KIND]).value_or("") == "ingress");
        },
        "RTM_GETQDISC dump"));
    return found;
}

Result<void> add_redirect_filter(NetlinkSocket& nl, int from_ifindex, int to_ifindex) {
    NetlinkMessage msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
    auto* tc = msg.family_header<tcmsg>();
    tc->tcm_family = AF_UNSPEC;
    tc->tcm_ifindex = from_ifindex;
    tc->tcm_parent = INGRESS_HANDLE;
    tc->tcm_info = TC_H_MAKE(uint32_t{REDIRECT_FILTER_PRIO} << 16, htons(ETH_P_ALL));
    nlmsghdr* nlh = msg.header();
    mnl_attr_put_strz(nlh, TCA_KIND, "u32");
    nlattr* options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    // One key that matches every frame (mask 0 at offset 0), terminal: "match u8 0 0".
    uint8_t sel[sizeof(tc_u32_sel) + sizeof(tc_u32_key)] = {};
    tc_u32_sel head{};
    head.flags = TC_U32_TERMINAL;
    head.nkeys = 1;
    std::memcpy(sel, &head, sizeof(head));
    mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel), sel);
    nlattr* actions = mnl_attr_nest_start(nlh, TCA_U32_ACT);
    nlattr* first = mnl_attr_nest_start(nlh, 1); // action order 1
    mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
    nlattr* act_options = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
    tc_mirred mirred{};
    mirred.action = TC_ACT_STOLEN;
    mirred.eaction = TCA_EGRESS_REDIR;
    mirred.ifindex = static_cast<uint32_t>(to_ifindex);
    mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
    mnl_attr_nest_end(nlh, act_options);
    mnl_attr_nest_end(nlh, first);
    mnl_attr_nest_end(nlh, actions);
    mnl_attr_nest_end(nlh, options);
    return nl.request(msg, "RTM_NEWTFILTER u32 mirred ifindex " + std::to_string(from_ifindex) +
                               " -> " + std::to_string(to_ifindex) +
                               " (needs cls_u32, act_mirred)");
}

Result<std::vector<IngressFilter>> list_ingress_filters(NetlinkSocket& nl, int ifindex) {
    NetlinkMessage msg(RTM_GETTFILTER, 0);
    auto* tc = msg.family_header<tcmsg>();
    tc->tcm_family = AF_UNSPEC;
    tc->tcm_ifindex = ifindex;
    tc->tcm_parent = INGRESS_HANDLE;
    std::vector<IngressFilter> out;
    RUNVM_TRY(nl.dump(
        msg,
        [&](const nlmsghdr* nlh) {
            if (nlh->nlmsg_type != RTM_NEWTFILTER ||
                mnl_nlmsg_get_payload_len(nlh) < sizeof(tcmsg)) {
                return;
            }
            const auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
            const AttrTable a = parse_attrs(nlh, sizeof(tcmsg));
            const AttrTable options = parse_nested(a[TCA_OPTIONS]);
            const nlattr* acts = options[TCA_U32_ACT];
            if (acts == nullptr) {
                return; // the u32 hash table entry, not a rule
            }
            IngressFilter f;
            f.prio = static_cast<uint16_t>(t->tcm_info >> 16);
            f.kind = attr_str(a[TCA_KIND]).value_or("");
            const AttrTable act = parse_nested(parse_nested(acts)[1]);
            if (attr_str(act[TCA_ACT_KIND]).value_or("") == "mirred") {
                const AttrTable m = parse_nested(act[TCA_ACT_OPTIONS]);
                if (const uint8_t* p = attr_bytes(m[TCA_MIRRED_PARMS], sizeof(tc_mirred), false)) {
                    tc_mirred parms;
                    std::memcpy(&parms, p, sizeof(parms));
                    if (parms.eaction == TCA_EGRESS_REDIR) {
                        f.redirect_ifindex = static_cast<int>(parms.ifindex);
                    }
                }
            }
            out.push_back(std::move(f));
        },
        "RTM_GETTFILTER dump ifindex " + std::to_string(ifindex)));
    return out;
}

} // namespace runvm::network
