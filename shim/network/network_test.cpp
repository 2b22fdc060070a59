// The netlink plumbing in throwaway namespaces A and B joined by a veth pair: description,
// tap + qdiscs + filters read back through netlink, frames mirrored both ways, teardown,
// cleanup after a simulated crash, and the test's own namespace untouched.
#define BOOST_TEST_MODULE network
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/network/links.hpp"
#include "shim/network/netns.hpp"
#include "shim/network/plumbing.hpp"
#include "shim/network/tc.hpp"

using namespace runvm;
using namespace runvm::network;

namespace {

#define REQUIRE_OK(r)                                                                              \
    BOOST_REQUIRE_MESSAGE((r).ok(), ((r).ok() ? std::string() : (r).error().str()))

constexpr uint16_t TEST_ETHERTYPE = 0x88b5;

void run_in(int netns, const std::string& command) {
    auto r = run_in_netns(netns, [&]() -> Result<void> {
        // The shell inherits this thread's namespace.
        if (std::system(command.c_str()) != 0) {
            return Err(Error::msg("command failed: " + command));
        }
        return Ok();
    });
    REQUIRE_OK(r);
}

struct Namespaces {
    UniqueFd a, b;
    Namespaces() {
        if (::geteuid() != 0 || std::system("command -v ip >/dev/null") != 0 ||
            ::access("/dev/net/tun", R_OK) != 0) {
            std::fprintf(stderr, "network_test: needs root, iproute2 and /dev/net/tun, skipped\n");
            std::exit(77);
        }
        auto na = create_netns();
        REQUIRE_OK(na);
        a = std::move(*na);
        auto nb = create_netns();
        REQUIRE_OK(nb);
        b = std::move(*nb);
        const std::string b_path =
            "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(b.get());
        run_in(a.get(), "ip link add veth0 mtu 1400 type veth peer name veth1 netns " + b_path +
                            " && ip link set veth0 up && ip addr add 10.77.0.1/24 dev veth0"
                            " && ip -6 addr add fd77::1/64 dev veth0 nodad"
                            " && ip route add default via 10.77.0.254");
        run_in(b.get(), "ip link set veth1 up && ip addr add 10.77.0.2/24 dev veth1");
    }
    std::vector<Link> links(int netns) {
        auto r = run_in_netns(netns, [&]() -> Result<std::vector<Link>> {
            RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
            return list_links(nl);
        });
        REQUIRE_OK(r);
        return *r;
    }
    const Link* find(const std::vector<Link>& ls, const std::string& name) {
        for (const Link& l : ls) {
            if (l.name == name) {
                return &l;
            }
        }
        return nullptr;
    }
    std::pair<bool, std::vector<IngressFilter>> ingress(int ifindex) {
        auto r =
            run_in_netns(a.get(), [&]() -> Result<std::pair<bool, std::vector<IngressFilter>>> {
                RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
                RUNVM_ASSIGN_OR_RETURN(bool has, has_ingress_qdisc(nl, ifindex));
                std::vector<IngressFilter> filters;
                if (has) {
                    RUNVM_ASSIGN_OR_RETURN(filters, list_ingress_filters(nl, ifindex));
                }
                return std::make_pair(has, filters);
            });
        REQUIRE_OK(r);
        return *r;
    }
    Plumbing plumb_or_skip(bool persist) {
        auto p = plumb(a.get(), PlumbOptions{"rvtap", persist});
        if (!p && (p.error().code() == ENOENT || p.error().code() == EOPNOTSUPP)) {
            std::fprintf(stderr, "network_test: %s: a module is missing, skipped\n",
                         p.error().str().c_str());
            std::exit(77);
        }
        REQUIRE_OK(p);
        return std::move(*p);
    }
};

// A packet socket on `ifname` inside `netns` (it stays in that namespace).
UniqueFd packet_socket(int netns, const std::string& ifname) {
    auto r = run_in_netns(netns, [&]() -> Result<UniqueFd> {
        UniqueFd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
        if (!s) {
            return Err(Error::from_errno("socket AF_PACKET"));
        }
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
        if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
            return Err(Error::from_errno("bind AF_PACKET " + ifname));
        }
        return s;
    });
    REQUIRE_OK(r);
    return std::move(*r);
}

std::vector<uint8_t> test_frame(const uint8_t* src_mac, uint8_t fill) {
    std::vector<uint8_t> f(60, fill);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, src_mac, 6);
    f[12] = TEST_ETHERTYPE >> 8;
    f[13] = TEST_ETHERTYPE & 0xff;
    return f;
}

// Reads from `fd` until a test frame arrives (after `skip` leading bytes: a vnet header).
std::vector<uint8_t> receive_test_frame(int fd, size_t skip) {
    std::vector<uint8_t> buf(4096);
    for (int tries = 0; tries < 50; ++tries) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) {
            return {};
        }
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > static_cast<ssize_t>(skip + 14) && buf[skip + 12] == (TEST_ETHERTYPE >> 8) &&
            buf[skip + 13] == (TEST_ETHERTYPE & 0xff)) {
            return std::vector<uint8_t>(buf.begin() + static_cast<long>(skip), buf.begin() + n);
        }
    }
    return {};
}

} // namespace

BOOST_AUTO_TEST_CASE(describe_reports_the_veth) {
    Namespaces ns;
    auto d = describe(ns.a.get());
    REQUIRE_OK(d);
    BOOST_REQUIRE(d->size() == 1U); // lo is left out
    const NetInterface& i = d->front();
    BOOST_TEST(i.name == "veth0");
    BOOST_TEST(i.mtu == 1400U);
    const Link* veth0 = ns.find(ns.links(ns.a.get()), "veth0");
    BOOST_REQUIRE(veth0 != nullptr);
    BOOST_TEST(i.mac == veth0->mac);
    BOOST_REQUIRE(i.addresses.size() == 2U);
    BOOST_TEST(i.addresses[0].address == "10.77.0.1");
    BOOST_TEST(i.addresses[0].prefix_len == 24U);
    BOOST_TEST(i.addresses[1].address == "fd77::1");
    bool default_route = false, subnet_route = false;
    for (const Route& r : i.routes) {
        default_route = default_route || (r.destination.empty() && r.gateway == "10.77.0.254");
        subnet_route = subnet_route || (r.destination == "10.77.0.0" && r.prefix_len == 24);
    }
    BOOST_TEST(default_route);
    BOOST_TEST(subnet_route);
    const auto json = to_json(*d);
    BOOST_TEST(json[0]["name"] == "veth0");
    BOOST_TEST(json[0]["addresses"][0]["address"] == "10.77.0.1");
}

BOOST_AUTO_TEST_CASE(plumb_mirrors_both_ways_and_teardown_removes_all) {
    Namespaces ns;
    Plumbing p = ns.plumb_or_skip(false);
    BOOST_REQUIRE(p.interfaces.size() == 1U);
    BOOST_REQUIRE(p.tap_fds.size() == 1U);
    const NetInterface& i = p.interfaces[0];
    BOOST_TEST(i.tap_name == "rvtap0");
    BOOST_TEST(::if_nametoindex("rvtap0") == 0U); // the test's own namespace has none
    const auto links = ns.links(ns.a.get());
    const Link* tap = ns.find(links, "rvtap0");
    BOOST_REQUIRE(tap != nullptr);
    BOOST_TEST(tap->kind == "tun");
    BOOST_TEST(tap->mtu == 1400U);
    BOOST_TEST((tap->flags & IFF_UP) != 0U);
    ifreq ifr{};
    BOOST_REQUIRE(::ioctl(p.tap_fds[0].get(), TUNGETIFF, &ifr) == 0);
    BOOST_TEST(std::string(ifr.ifr_name) == "rvtap0");
    BOOST_TEST((ifr.ifr_flags & IFF_VNET_HDR) != 0);

    for (const auto& [from, to] :
         {std::pair{i.index, i.tap_index}, std::pair{i.tap_index, i.index}}) {
        auto [has, filters] = ns.ingress(from);
        BOOST_TEST(has);
        BOOST_REQUIRE(filters.size() == 1U);
        BOOST_TEST(filters[0].kind == "u32");
        BOOST_TEST(filters[0].prio == REDIRECT_FILTER_PRIO);
        BOOST_TEST(filters[0].redirect_ifindex == to);
    }

    // Peer -> veth1 -> veth0 ingress -> tap: the frame comes out of the tap fd, after the
    // tap's default 10-byte vnet header.
    UniqueFd in_b = packet_socket(ns.b.get(), "veth1");
    const Link* veth1 = ns.find(ns.links(ns.b.get()), "veth1");
    BOOST_REQUIRE(veth1 != nullptr);
    const auto to_guest = test_frame(veth1->mac.data(), 0x11);
    BOOST_REQUIRE(::send(in_b.get(), to_guest.data(), to_guest.size(), 0) ==
                  static_cast<ssize_t>(to_guest.size()));
    BOOST_TEST(receive_test_frame(p.tap_fds[0].get(), 10) == to_guest);
    // Guest -> tap ingress -> veth0 egress -> veth1 in B.
    const auto from_guest = test_frame(i.mac.data(), 0x22);
    std::vector<uint8_t> with_header(10, 0);
    with_header.insert(with_header.end(), from_guest.begin(), from_guest.end());
    BOOST_REQUIRE(::write(p.tap_fds[0].get(), with_header.data(), with_header.size()) ==
                  static_cast<ssize_t>(with_header.size()));
    BOOST_TEST(receive_test_frame(in_b.get(), 0) == from_guest);

    REQUIRE_OK(teardown(ns.a.get(), p.interfaces));
    BOOST_TEST(ns.find(ns.links(ns.a.get()), "rvtap0") == nullptr);
    BOOST_TEST(!ns.ingress(i.index).first);
    auto again = cleanup(ns.a.get());
    REQUIRE_OK(again);
    BOOST_TEST(again->taps_removed == 0);
    BOOST_TEST(again->qdiscs_removed == 0);
}

BOOST_AUTO_TEST_CASE(cleanup_after_a_crash) {
    Namespaces ns;
    int veth_index = 0;
    {
        // A sandbox that dies: its tap fd closes (the tap goes), the veth's qdisc stays.
        Plumbing p = ns.plumb_or_skip(false);
        veth_index = p.interfaces[0].index;
    }
    BOOST_TEST(ns.find(ns.links(ns.a.get()), "rvtap0") == nullptr);
    BOOST_TEST(ns.ingress(veth_index).first);
    auto c = cleanup(ns.a.get());
    REQUIRE_OK(c);
    BOOST_TEST(c->qdiscs_removed == 1);
    BOOST_TEST(!ns.ingress(veth_index).first);

    // Persistent taps outlive everything: cleanup removes them and the qdisc.
    Plumbing persistent = ns.plumb_or_skip(true);
    BOOST_TEST(!persistent.tap_fds[0].valid());
    BOOST_TEST(ns.find(ns.links(ns.a.get()), "rvtap0") != nullptr);
    auto c2 = cleanup(ns.a.get());
    REQUIRE_OK(c2);
    BOOST_TEST(c2->taps_removed == 1);
    BOOST_TEST(c2->qdiscs_removed == 1);
    BOOST_TEST(ns.find(ns.links(ns.a.get()), "rvtap0") == nullptr);
    auto c3 = cleanup(ns.a.get());
    REQUIRE_OK(c3);
    BOOST_TEST(c3->taps_removed + c3->qdiscs_removed == 0);
}

BOOST_AUTO_TEST_CASE(bad_namespace_fd_is_an_error) {
    auto d = describe(-1);
    BOOST_TEST(!d.ok());
    BOOST_TEST(d.error().message().find("setns") != std::string::npos);
}

// The host's own namespaces (pid 1's, this process's) are never plumbed nor cleaned, whatever
// file names them; a fresh one is.
BOOST_AUTO_TEST_CASE(the_hosts_namespace_is_refused) {
    Namespaces ns;
    const std::string self_by_pid = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    for (const std::string path : {"/proc/1/ns/net", "/proc/self/ns/net", self_by_pid.c_str()}) {
        auto fd = open_netns(path);
        if (!fd && fd.error().code() == EACCES) {
            continue; // pid 1's, without ptrace access to pid 1 (a confined root)
        }
        REQUIRE_OK(fd);
        auto refused = refuse_host_netns(fd->get());
        BOOST_REQUIRE_MESSAGE(!refused.ok(), path);
        BOOST_TEST(refused.error().code() == EPERM);
        BOOST_TEST(refused.error().message().find("runvm refuses it") != std::string::npos);
        auto p = plumb(fd->get());
        BOOST_REQUIRE(!p.ok());
        BOOST_TEST(p.error().code() == EPERM);
        auto c = cleanup(fd->get());
        BOOST_REQUIRE(!c.ok());
        BOOST_TEST(c.error().code() == EPERM);
    }
    BOOST_TEST(refuse_host_netns(ns.a.get()).ok());
    BOOST_TEST(refuse_host_netns(-1).error().code() == EBADF);
}
