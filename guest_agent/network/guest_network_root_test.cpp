// apply_network against a real kernel: in a throwaway network namespace (this test's thread
// only), a veth found by MAC is renamed, given MTU, IPv4 + IPv6 addresses and routes, set up;
// lo goes up; resolv.conf and hosts are written; a second apply is accepted (replace). A
// pooled VM's spare link is parked out of the namespace and brought back with the host's MAC.
#define BOOST_TEST_MODULE guest_network_root
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <sched.h>
#include <unistd.h>

#include "guest_agent/network/interface_setup.hpp"
#include "guest_agent/network/loopback.hpp"
#include "guest_agent/network/spare_links.hpp"

using namespace runvm;
using namespace runvm::agent::net;

namespace {

std::string run(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    BOOST_REQUIRE(p);
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p)) {
        out += buf;
    }
    ::pclose(p);
    return out;
}

bool contains(const std::string& text, const std::string& s) {
    return text.find(s) != std::string::npos;
}

NetworkSpec test_spec() {
    NetworkSpec spec;
    InterfaceSpec i;
    i.name = "eth5";
    i.mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x07};
    i.mtu = 1280;
    i.addresses = {{*parse_ip("10.5.0.2"), 24}, {*parse_ip("fd05::2"), 64}};
    spec.interfaces.push_back(i);
    RouteSpec subnet;
    subnet.destination = *parse_ip("10.6.0.0");
    subnet.prefix_len = 16;
    subnet.gateway = *parse_ip("10.5.0.1");
    subnet.device = "eth5";
    RouteSpec def;
    def.destination.family = AF_INET;
    def.gateway = *parse_ip("10.5.0.1");
    def.device = "eth5";
    def.metric = 50;
    RouteSpec v6;
    v6.destination = *parse_ip("fd06::");
    v6.prefix_len = 64;
    v6.device = "eth5";
    spec.routes = {subnet, def, v6};
    spec.resolv_conf = "nameserver 10.5.0.1\n";
    spec.hosts = "10.5.0.2 c1\n";
    return spec;
}

} // namespace

BOOST_AUTO_TEST_CASE(interface_configured_in_a_fresh_namespace) {
    if (::geteuid() != 0 || std::system("command -v ip >/dev/null") != 0) {
        std::fprintf(stderr, "guest_network_root_test: needs root and iproute2, skipped\n");
        std::exit(77);
    }
    char tmpl[] = "/tmp/runvm-guestnet.XXXXXX";
    const std::string etc = ::mkdtemp(tmpl);
    std::string link, addr, routes, routes6, lo;
    std::string failure;
    std::thread worker([&] {
        // unshare affects this thread only; popen's children inherit its namespace.
        if (::unshare(CLONE_NEWNET) != 0) {
            failure = "unshare CLONE_NEWNET";
            return;
        }
        if (std::system("ip link add v0 address 02:00:00:00:00:07 type veth peer name v1 && "
                        "ip link set v1 up") != 0) {
            failure = "ip link add veth";
            return;
        }
        const NetworkSpec spec = test_spec();
        for (int round = 0; round < 2; ++round) { // the second: everything exists already
            if (auto r = apply_network(spec, etc); !r) {
                failure = "apply_network round " + std::to_string(round) + ": " + r.error().str();
                return;
            }
        }
        if (auto r = bring_up_loopback(); !r) {
            failure = r.error().str();
            return;
        }
        auto missing = find_link_by_mac({0x02, 0, 0, 0, 0, 0x99});
        if (missing.ok() || missing.error().code() != ENODEV) {
            failure = "a MAC nobody has was found";
            return;
        }
        link = run("ip -o link show dev eth5");
        addr = run("ip -o addr show dev eth5");
        routes = run("ip route show");
        routes6 = run("ip -6 route show");
        lo = run("ip -o link show dev lo");
    });
    worker.join();
    BOOST_REQUIRE_MESSAGE(failure.empty(), failure);
    BOOST_TEST(contains(link, "mtu 1280"), link);
    BOOST_TEST(contains(link, "UP"), link);
    BOOST_TEST(contains(link, "02:00:00:00:00:07"), link);
    BOOST_TEST(contains(addr, "inet 10.5.0.2/24"), addr);
    BOOST_TEST(contains(addr, "inet6 fd05::2/64"), addr);
    BOOST_TEST(contains(routes, "default via 10.5.0.1 dev eth5"), routes);
    BOOST_TEST(contains(routes, "metric 50"), routes);
    BOOST_TEST(contains(routes, "10.6.0.0/16 via 10.5.0.1 dev eth5"), routes);
    BOOST_TEST(contains(routes6, "fd06::/64 dev eth5"), routes6);
    BOOST_TEST(contains(lo, "UP"), lo);
    std::ifstream resolv(etc + "/resolv.conf");
    std::stringstream text;
    text << resolv.rdbuf();
    BOOST_TEST(text.str() == "nameserver 10.5.0.1\n");
    std::ifstream hosts(etc + "/hosts");
    std::stringstream htext;
    htext << hosts.rdbuf();
    BOOST_TEST(htext.str() == "10.5.0.2 c1\n");
    [[maybe_unused]] int rc = std::system(("rm -rf " + etc).c_str());
    // The test process's own namespace never saw eth5.
    BOOST_TEST(!contains(run("ip -o link show"), "eth5"));
}

BOOST_AUTO_TEST_CASE(spare_link_parked_then_configured_with_the_hosts_mac) {
    if (::geteuid() != 0 || std::system("command -v ip >/dev/null") != 0) {
        std::fprintf(stderr, "guest_network_root_test: needs root and iproute2, skipped\n");
        std::exit(77);
    }
    const std::array<uint8_t, 6> spare{0x02, 0x72, 0x76, 0x00, 0x00, 0x01};
    std::string parked_view, link, addr;
    std::string failure;
    std::thread worker([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            failure = "unshare CLONE_NEWNET";
            return;
        }
        if (std::system("ip link add v2 address 02:72:76:00:00:01 type veth peer name v3") != 0) {
            failure = "ip link add veth";
            return;
        }
        if (auto r = park_links({spare}); !r) {
            failure = "park: " + r.error().str();
            return;
        }
        parked_view = run("ip -o link show");
        NetworkSpec spec;
        InterfaceSpec i;
        i.name = "eth6";
        i.mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
        i.guest_mac = spare;
        i.mtu = 1400;
        i.addresses = {{*parse_ip("10.7.0.2"), 24}};
        spec.interfaces.push_back(i);
        if (auto r = apply_network(spec, "/nonexistent"); !r) {
            failure = "apply_network: " + r.error().str();
            return;
        }
        // Bringing back a MAC that is not parked (it is here now) is no error.
        if (auto r = unpark_link(spare); !r) {
            failure = "unpark again: " + r.error().str();
            return;
        }
        link = run("ip -o link show dev eth6");
        addr = run("ip -o addr show dev eth6");
    });
    worker.join();
    BOOST_REQUIRE_MESSAGE(failure.empty(), failure);
    BOOST_TEST(!contains(parked_view, "v2"), parked_view);
    BOOST_TEST(contains(parked_view, "v3"), parked_view);
    BOOST_TEST(contains(link, "02:42:ac:11:00:02"), link);
    BOOST_TEST(contains(link, "mtu 1400"), link);
    BOOST_TEST(contains(link, "UP"), link);
    BOOST_TEST(contains(addr, "inet 10.7.0.2/24"), addr);
}
