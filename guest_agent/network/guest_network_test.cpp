// The agent's rtnetlink writer (bytes of link/address/route requests), ack parsing of hostile
// datagrams, and ConfigureNetwork's request checks.
#define BOOST_TEST_MODULE guest_network
#include <cstring>
#include <functional>
#include <map>

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "guest_agent/network/network_spec.hpp"
#include "guest_agent/network/rtnl_requests.hpp"

using namespace runvm;
using namespace runvm::agent::net;
namespace pb = runvm::agent::v1;

namespace {

// The attributes after the family header of `hdr_size` bytes: type -> payload.
std::map<uint16_t, std::vector<uint8_t>> attributes(const NetlinkMessage& m, size_t hdr_size) {
    std::map<uint16_t, std::vector<uint8_t>> out;
    const auto& b = m.bytes();
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdr_size);
    while (off + NLA_HDRLEN <= b.size()) {
        nlattr a;
        std::memcpy(&a, b.data() + off, sizeof(a));
        BOOST_REQUIRE(a.nla_len >= NLA_HDRLEN && off + a.nla_len <= b.size());
        out[a.nla_type].assign(b.data() + off + NLA_HDRLEN, b.data() + off + a.nla_len);
        off += NLA_ALIGN(a.nla_len);
    }
    BOOST_CHECK_EQUAL(off, b.size());
    return out;
}

nlmsghdr header_of(const NetlinkMessage& m) {
    nlmsghdr h;
    std::memcpy(&h, m.bytes().data(), sizeof(h));
    return h;
}

uint32_t u32_of(const std::vector<uint8_t>& v) {
    BOOST_REQUIRE_EQUAL(v.size(), 4u);
    uint32_t x;
    std::memcpy(&x, v.data(), 4);
    return x;
}

std::vector<uint8_t> ack(uint32_t seq, int error, uint32_t claimed_len = 0) {
    nlmsghdr h{};
    h.nlmsg_len = claimed_len ? claimed_len : NLMSG_LENGTH(sizeof(nlmsgerr));
    h.nlmsg_type = NLMSG_ERROR;
    h.nlmsg_seq = seq;
    nlmsgerr e{};
    e.error = error;
    std::vector<uint8_t> out(NLMSG_LENGTH(sizeof(nlmsgerr)));
    std::memcpy(out.data(), &h, sizeof(h));
    std::memcpy(out.data() + NLMSG_HDRLEN, &e, sizeof(e));
    return out;
}

pb::ConfigureNetworkRequest good_request() {
    pb::ConfigureNetworkRequest req;
    auto* i = req.add_interfaces();
    i->set_name("eth0");
    i->set_mac("02:42:ac:11:00:02");
    i->set_mtu(1400);
    auto* a = i->add_addresses();
    a->set_address("10.98.0.1");
    a->set_prefix_len(24);
    auto* a6 = i->add_addresses();
    a6->set_address("fd00::1");
    a6->set_prefix_len(64);
    auto* def = req.add_routes();
    def->set_gateway("10.98.0.254");
    def->set_device("eth0");
    auto* link = req.add_routes();
    link->set_destination("10.99.0.0");
    link->set_prefix_len(16);
    link->set_device("eth0");
    req.set_resolv_conf("nameserver 10.98.0.254\n");
    return req;
}

} // namespace

BOOST_AUTO_TEST_CASE(link_request_renames_sets_mtu_and_up) {
    const auto m = link_request(7, 3, "eth9", 1400, true);
    const nlmsghdr h = header_of(m);
    BOOST_CHECK_EQUAL(h.nlmsg_len, m.bytes().size());
    BOOST_CHECK_EQUAL(h.nlmsg_type, RTM_NEWLINK);
    BOOST_CHECK_EQUAL(h.nlmsg_seq, 7u);
    BOOST_CHECK(h.nlmsg_flags & NLM_F_ACK);
    BOOST_CHECK(h.nlmsg_flags & NLM_F_REQUEST);
    ifinfomsg ifi;
    std::memcpy(&ifi, m.bytes().data() + NLMSG_HDRLEN, sizeof(ifi));
    BOOST_CHECK_EQUAL(ifi.ifi_index, 3);
    BOOST_CHECK_EQUAL(ifi.ifi_flags & IFF_UP, static_cast<unsigned>(IFF_UP));
    BOOST_CHECK_EQUAL(ifi.ifi_change, static_cast<unsigned>(IFF_UP));
    auto attrs = attributes(m, sizeof(ifinfomsg));
    BOOST_CHECK_EQUAL(std::string(reinterpret_cast<const char*>(attrs[IFLA_IFNAME].data())),
                      "eth9");
    BOOST_CHECK_EQUAL(attrs[IFLA_IFNAME].size(), 5u); // NUL included
    BOOST_CHECK_EQUAL(u32_of(attrs[IFLA_MTU]), 1400u);

    const auto down = link_request(8, 3, "", 0, false);
    std::memcpy(&ifi, down.bytes().data() + NLMSG_HDRLEN, sizeof(ifi));
    BOOST_CHECK_EQUAL(ifi.ifi_flags & IFF_UP, 0u);
    BOOST_CHECK(attributes(down, sizeof(ifinfomsg)).empty());

    // A spare link takes the host's MAC; a parked one moves by namespace fd.
    const std::array<uint8_t, 6> mac{0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
    const auto with_mac = link_request(9, 3, "", 0, false, &mac);
    auto mac_attrs = attributes(with_mac, sizeof(ifinfomsg));
    BOOST_CHECK(mac_attrs[IFLA_ADDRESS] == std::vector<uint8_t>(mac.begin(), mac.end()));
    const auto move = move_link_request(10, 3, 42);
    std::memcpy(&ifi, move.bytes().data() + NLMSG_HDRLEN, sizeof(ifi));
    BOOST_CHECK_EQUAL(ifi.ifi_index, 3);
    BOOST_CHECK_EQUAL(ifi.ifi_flags & IFF_UP, 0u);
    BOOST_CHECK_EQUAL(u32_of(attributes(move, sizeof(ifinfomsg))[IFLA_NET_NS_FD]), 42u);
}

BOOST_AUTO_TEST_CASE(address_request_v4_and_v6) {
    auto v4 = parse_ip("10.98.0.1");
    BOOST_REQUIRE(v4.ok());
    const auto m = address_request(1, 4, *v4, 24);
    BOOST_CHECK_EQUAL(header_of(m).nlmsg_type, RTM_NEWADDR);
    ifaddrmsg ifa;
    std::memcpy(&ifa, m.bytes().data() + NLMSG_HDRLEN, sizeof(ifa));
    BOOST_CHECK_EQUAL(ifa.ifa_family, AF_INET);
    BOOST_CHECK_EQUAL(ifa.ifa_prefixlen, 24);
    BOOST_CHECK_EQUAL(ifa.ifa_index, 4u);
    auto attrs = attributes(m, sizeof(ifaddrmsg));
    const std::vector<uint8_t> want = {10, 98, 0, 1};
    BOOST_CHECK(attrs[IFA_LOCAL] == want);
    BOOST_CHECK(attrs[IFA_ADDRESS] == want);
    BOOST_CHECK(attrs.count(IFA_FLAGS) == 0);

    auto v6 = parse_ip("fd00::1");
    BOOST_REQUIRE(v6.ok());
    const auto m6 = address_request(2, 4, *v6, 64);
    auto attrs6 = attributes(m6, sizeof(ifaddrmsg));
    BOOST_CHECK_EQUAL(attrs6[IFA_LOCAL].size(), 16u);
    BOOST_CHECK_EQUAL(attrs6[IFA_LOCAL][0], 0xfd);
    BOOST_CHECK_EQUAL(attrs6[IFA_LOCAL][15], 1);
    BOOST_CHECK_EQUAL(u32_of(attrs6[IFA_FLAGS]), static_cast<uint32_t>(IFA_F_NODAD));
}

BOOST_AUTO_TEST_CASE(route_request_default_gateway_and_on_link) {
    IpAddress any;
    any.family = AF_INET;
    auto gw = parse_ip("10.98.0.254");
    BOOST_REQUIRE(gw.ok());
    const auto m = route_request(1, 5, any, 0, &*gw, 100);
    BOOST_CHECK_EQUAL(header_of(m).nlmsg_type, RTM_NEWROUTE);
    rtmsg rt;
    std::memcpy(&rt, m.bytes().data() + NLMSG_HDRLEN, sizeof(rt));
    BOOST_CHECK_EQUAL(rt.rtm_dst_len, 0);
    BOOST_CHECK_EQUAL(rt.rtm_table, RT_TABLE_MAIN);
    BOOST_CHECK_EQUAL(rt.rtm_scope, RT_SCOPE_UNIVERSE);
    auto attrs = attributes(m, sizeof(rtmsg));
    BOOST_CHECK(attrs.count(RTA_DST) == 0);
    BOOST_CHECK((attrs[RTA_GATEWAY] == std::vector<uint8_t>{10, 98, 0, 254}));
    BOOST_CHECK_EQUAL(u32_of(attrs[RTA_OIF]), 5u);
    BOOST_CHECK_EQUAL(u32_of(attrs[RTA_PRIORITY]), 100u);

    auto net = parse_ip("10.99.0.0");
    BOOST_REQUIRE(net.ok());
    const auto l = route_request(2, 5, *net, 16, nullptr, 0);
    std::memcpy(&rt, l.bytes().data() + NLMSG_HDRLEN, sizeof(rt));
    BOOST_CHECK_EQUAL(rt.rtm_scope, RT_SCOPE_LINK);
    BOOST_CHECK_EQUAL(rt.rtm_dst_len, 16);
    auto la = attributes(l, sizeof(rtmsg));
    BOOST_CHECK((la[RTA_DST] == std::vector<uint8_t>{10, 99, 0, 0}));
    BOOST_CHECK(la.count(RTA_GATEWAY) == 0 && la.count(RTA_PRIORITY) == 0);
}

BOOST_AUTO_TEST_CASE(ack_parsing_is_bounds_checked) {
    bool found = false;
    auto ok = ack(9, 0);
    BOOST_CHECK(check_ack(ok.data(), ok.size(), 9, "x", &found).ok());
    BOOST_CHECK(found);
    auto other = ack(8, 0);
    BOOST_CHECK(check_ack(other.data(), other.size(), 9, "x", &found).ok());
    BOOST_CHECK(!found); // not ours: keep reading
    auto busy = ack(9, -EEXIST);
    auto r = check_ack(busy.data(), busy.size(), 9, "add address", &found);
    BOOST_REQUIRE(!r.ok());
    BOOST_CHECK_EQUAL(r.error().code(), EEXIST);
    BOOST_CHECK(r.error().str().find("add address") != std::string::npos);
    auto liar = ack(9, 0, 4096); // claims more than the datagram holds
    r = check_ack(liar.data(), liar.size(), 9, "x", &found);
    BOOST_REQUIRE(!r.ok());
    BOOST_CHECK_EQUAL(r.error().code(), EPROTO);
    auto tiny = ack(9, 0, sizeof(nlmsghdr)); // an error message without its nlmsgerr
    r = check_ack(tiny.data(), tiny.size(), 9, "x", &found);
    BOOST_REQUIRE(!r.ok());
    BOOST_CHECK_EQUAL(r.error().code(), EPROTO);
    auto zero = ack(9, 0, 3); // below a header: would loop forever if accepted
    BOOST_CHECK(!check_ack(zero.data(), zero.size(), 9, "x", &found).ok());
    BOOST_CHECK(check_ack(ok.data(), 5, 9, "x", &found).ok()); // truncated: nothing read
    BOOST_CHECK(!found);
}

BOOST_AUTO_TEST_CASE(request_parsed_and_routes_ordered) {
    auto spec = parse_network_request(good_request());
    BOOST_REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? std::string() : spec.error().str()));
    BOOST_REQUIRE_EQUAL(spec->interfaces.size(), 1u);
    const auto& i = spec->interfaces[0];
    BOOST_CHECK_EQUAL(i.name, "eth0");
    BOOST_CHECK((i.mac == std::array<uint8_t, 6>{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}));
    BOOST_CHECK_EQUAL(i.mtu, 1400u);
    BOOST_REQUIRE_EQUAL(i.addresses.size(), 2u);
    BOOST_CHECK_EQUAL(i.addresses[1].address.family, AF_INET6);
    BOOST_REQUIRE_EQUAL(spec->routes.size(), 2u);
    // On-link first: the default route's gateway must be reachable when it is added.
    BOOST_CHECK(!spec->routes[0].gateway);
    BOOST_CHECK_EQUAL(spec->routes[0].prefix_len, 16u);
    BOOST_CHECK(spec->routes[1].gateway);
    BOOST_CHECK_EQUAL(spec->routes[1].destination.family, AF_INET);
    BOOST_CHECK_EQUAL(spec->resolv_conf, "nameserver 10.98.0.254\n");
    BOOST_CHECK(!i.guest_mac);
    BOOST_CHECK(spec->park.empty());

    auto pooled = good_request();
    pooled.mutable_interfaces(0)->set_guest_mac("02:72:76:00:00:01");
    auto parked = parse_network_request(pooled);
    BOOST_REQUIRE(parked.ok());
    BOOST_CHECK((parked->interfaces[0].guest_mac ==
                 std::array<uint8_t, 6>{0x02, 0x72, 0x76, 0x00, 0x00, 0x01}));
    pb::ConfigureNetworkRequest park;
    park.add_park("02:72:76:00:00:01");
    auto to_park = parse_network_request(park);
    BOOST_REQUIRE(to_park.ok());
    BOOST_CHECK_EQUAL(to_park->park.size(), 1u);
}

BOOST_AUTO_TEST_CASE(bad_requests_refused) {
    auto refused = [](const std::function<void(pb::ConfigureNetworkRequest&)>& edit,
                      const std::string& needle) {
        auto req = good_request();
        edit(req);
        auto r = parse_network_request(req);
        BOOST_CHECK_MESSAGE(!r.ok(), "accepted: " + needle);
        if (!r.ok()) {
            BOOST_CHECK_MESSAGE(r.error().str().find(needle) != std::string::npos,
                                r.error().str() + " lacks " + needle);
        }
    };
    refused([](auto& r) { r.mutable_interfaces(0)->set_name("a-very-long-name0"); }, "name");
    refused([](auto& r) { r.mutable_interfaces(0)->set_name("a/b"); }, "name");
    refused([](auto& r) { r.mutable_interfaces(0)->set_name(""); }, "name");
    refused([](auto& r) { r.mutable_interfaces(0)->set_mac("02:42:ac:11:00"); }, "MAC");
    refused([](auto& r) { r.mutable_interfaces(0)->set_mac("02:42:ac:11:00:zz"); }, "MAC");
    refused([](auto& r) { r.mutable_interfaces(0)->set_mtu(20); }, "MTU");
    refused([](auto& r) { r.mutable_interfaces(0)->mutable_addresses(0)->set_prefix_len(33); },
            "prefix length 33");
    refused([](auto& r) { r.mutable_interfaces(0)->mutable_addresses(0)->set_address("10.1"); },
            "IP address");
    refused([](auto& r) { r.mutable_routes(0)->set_device("eth1"); }, "device 'eth1'");
    refused([](auto& r) { r.mutable_routes(0)->set_gateway("fd00::1"); }, "another family");
    refused([](auto& r) { r.mutable_routes(0)->set_prefix_len(8); }, "without destination");
    refused([](auto& r) { *r.add_interfaces() = r.interfaces(0); }, "given twice");
    refused([](auto& r) { r.mutable_interfaces(0)->set_guest_mac("02:72"); }, "MAC");
    refused(
        [](auto& r) {
            r.mutable_interfaces(0)->set_guest_mac("02:72:76:00:00:01");
            r.add_park("02:72:76:00:00:01");
        },
        "also parked");
    refused([](auto& r) { r.add_park("02:72:76:00:00:0x"); }, "MAC");
    refused(
        [](auto& r) {
            r.add_park("02:72:76:00:00:01");
            r.add_park("02:72:76:00:00:01");
        },
        "given twice");
    refused(
        [](auto& r) {
            for (size_t n = 0; n <= kMaxInterfaces; ++n) {
                r.add_park("02:72:76:00:00:01");
            }
        },
        "links to park");
    refused([](auto& r) { r.set_hosts(std::string(kMaxConfigFile + 1, 'x')); }, "64 KiB");
    refused(
        [](auto& r) {
            for (size_t n = 0; n <= kMaxRoutes; ++n) {
                *r.add_routes() = r.routes(1);
            }
        },
        "routes");
}
