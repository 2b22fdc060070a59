// sandbox_network: which namespace the sandbox plumbs, the guest's name files, and the
// ConfigureNetwork request made from a plumbed namespace's description.
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/sandbox/sandbox_network.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::shim::testing::TempDir;

namespace {

oci::Spec spec_with(std::vector<oci::Namespace> namespaces) {
    oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces = std::move(namespaces);
    return spec;
}

network::NetInterface veth() {
    network::NetInterface i;
    i.name = "eth0";
    i.index = 2;
    i.mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x0a};
    i.mtu = 1400;
    i.addresses = {{AF_INET, "10.98.0.1", 24, 2}, {AF_INET6, "fd00::1", 64, 2}};
    // The subnet route the kernel made from the address, a default and an IPv6 one.
    i.routes = {{AF_INET, "10.98.0.0", 24, "", 2, RT_SCOPE_LINK, RTPROT_KERNEL, 0},
                {AF_INET, "", 0, "10.98.0.254", 2, RT_SCOPE_UNIVERSE, RTPROT_BOOT, 100},
                {AF_INET6, "fd01::", 64, "fd00::fe", 2, RT_SCOPE_UNIVERSE, RTPROT_STATIC, 1024}};
    return i;
}

} // namespace

BOOST_AUTO_TEST_CASE(only_a_namespace_path_is_plumbed) {
    BOOST_TEST(!network_namespace_path(oci::Spec{}).has_value());
    // runc makes a new one (docker --network none, a bare bundle): loopback only.
    BOOST_TEST(!network_namespace_path(spec_with({{"network", std::nullopt, {}}})).has_value());
    BOOST_TEST(!network_namespace_path(spec_with({{"network", std::string(), {}}})).has_value());
    BOOST_TEST(!network_namespace_path(spec_with({{"ipc", std::string("/proc/1/ns/ipc"), {}}}))
                    .has_value());
    const auto p = network_namespace_path(spec_with(
        {{"pid", std::nullopt, {}}, {"network", std::string("/var/run/netns/cni-1"), {}}}));
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(*p == "/var/run/netns/cni-1");
}

// docker --network host, a hostNetwork pod: no network entry means the host's network, which
// a VM cannot share; any network entry (new or by path) is the VM's own.
BOOST_AUTO_TEST_CASE(a_spec_without_a_network_namespace_is_refused) {
    oci::Spec no_linux;
    oci::Spec no_namespaces;
    no_namespaces.linux.emplace();
    for (const oci::Spec& spec : {no_linux, no_namespaces, spec_with({}),
                                  spec_with({{"pid", std::nullopt, {}},
                                             {"ipc", std::nullopt, {}},
                                             {"uts", std::string("/proc/1/ns/uts"), {}},
                                             {"mount", std::nullopt, {}}})}) {
        auto r = require_network_namespace(spec);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().code() == ENOTSUP);
        BOOST_TEST(r.error().message() ==
                   "linux.namespaces has no network namespace: the container would share the "
                   "host's network (docker --network host, a hostNetwork pod), which a VM "
                   "cannot do without taking over the host's interfaces; runvm refuses it");
    }
    BOOST_TEST(require_network_namespace(spec_with({{"network", std::nullopt, {}}})).ok());
    BOOST_TEST(
        require_network_namespace(spec_with({{"pid", std::nullopt, {}},
                                             {"network", std::string("/var/run/netns/cni-1"), {}}}))
            .ok());
}

// Whatever file names it (/proc/1/ns/net, docker --network container:<a runvm container>,
// whose pid is the monitor's), the host's namespace is refused before anything is plumbed.
BOOST_AUTO_TEST_CASE(plumbing_the_hosts_namespace_is_refused) {
    const std::string by_pid = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    for (const std::string& path : {std::string("/proc/self/ns/net"), by_pid}) {
        auto r = SandboxNetwork::plumb(path);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().code() == EPERM);
        // pid 1's too when the test runs in the host's namespace: that is named first.
        BOOST_TEST(r.error().message().find("network namespace " + path + ": it is the ") == 0u,
                   r.error().message());
        BOOST_TEST(r.error().message().find("; runvm refuses it") != std::string::npos);
    }
    auto pid1 = SandboxNetwork::plumb("/proc/1/ns/net");
    BOOST_REQUIRE(!pid1.ok());
    // Refused as the host's where it opens; without ptrace access to pid 1 (not root, or a
    // confined root) it does not open at all.
    if (pid1.error().code() != EACCES) {
        BOOST_TEST(pid1.error().code() == EPERM);
        BOOST_TEST(pid1.error().message().find("runvm refuses it") != std::string::npos,
                   pid1.error().message());
    }
}

BOOST_AUTO_TEST_CASE(name_files_come_from_the_specs_bind_mounts) {
    TempDir d;
    std::ofstream(d.path + "/resolv") << "nameserver 10.98.0.254\n";
    std::ofstream(d.path + "/hosts") << "127.0.0.1 localhost\n10.98.0.1 c1\n";
    oci::Spec spec;
    oci::Mount resolv;
    resolv.destination = "/etc/resolv.conf";
    resolv.source = d.path + "/resolv";
    oci::Mount hosts;
    hosts.destination = "/etc/hosts";
    hosts.source = d.path + "/hosts";
    oci::Mount other;
    other.destination = "/etc/hostname";
    other.source = d.path + "/hosts";
    spec.mounts = std::vector<oci::Mount>{other, resolv, hosts};
    auto files = guest_name_files(spec);
    BOOST_TEST(files.resolv_conf == "nameserver 10.98.0.254\n");
    BOOST_TEST(files.hosts == "127.0.0.1 localhost\n10.98.0.1 c1\n");
    hosts.source = d.path + "/missing";
    spec.mounts = std::vector<oci::Mount>{hosts};
    BOOST_TEST(guest_name_files(spec).hosts.empty());
    BOOST_TEST(guest_name_files(oci::Spec{}).resolv_conf.empty());
}

BOOST_AUTO_TEST_CASE(request_carries_the_interface_and_its_routes) {
    const auto req = network_request({veth()}, {"nameserver 1.1.1.1\n", ""});
    BOOST_REQUIRE_EQUAL(req.interfaces_size(), 1);
    const auto& i = req.interfaces(0);
    BOOST_TEST(i.name() == "eth0");
    BOOST_TEST(i.mac() == "02:42:ac:11:00:0a");
    BOOST_TEST(i.mtu() == 1400u);
    BOOST_REQUIRE_EQUAL(i.addresses_size(), 2);
    BOOST_TEST(i.addresses(0).address() == "10.98.0.1");
    BOOST_TEST(i.addresses(0).prefix_len() == 24u);
    BOOST_TEST(i.addresses(1).address() == "fd00::1");
    // The kernel's own subnet route is left to the guest's kernel.
    BOOST_REQUIRE_EQUAL(req.routes_size(), 2);
    BOOST_TEST(req.routes(0).destination().empty());
    BOOST_TEST(req.routes(0).gateway() == "10.98.0.254");
    BOOST_TEST(req.routes(0).device() == "eth0");
    BOOST_TEST(req.routes(0).metric() == 100u);
    BOOST_TEST(!req.routes(0).ipv6());
    BOOST_TEST(req.routes(1).destination() == "fd01::");
    BOOST_TEST(req.routes(1).prefix_len() == 64u);
    BOOST_TEST(req.routes(1).ipv6());
    BOOST_TEST(req.resolv_conf() == "nameserver 1.1.1.1\n");
    BOOST_TEST(req.hosts().empty());
}

BOOST_AUTO_TEST_CASE(plumbing_a_missing_namespace_names_it) {
    auto r = SandboxNetwork::plumb("/nonexistent/netns");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("/nonexistent/netns") != std::string::npos);
    // delete --force after the namespace went (CNI DEL): nothing to clean, no error.
    BOOST_TEST(cleanup_network_namespace("/nonexistent/netns").ok());
}
