// guest_spec: host namespaces and host bind mounts as the guest sees them.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "oci/validate.hpp"
#include "shim/sandbox/guest_spec.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::shim::testing::TempDir;

namespace {

oci::Mount host_bind(const std::string& source, const std::string& destination) {
    oci::Mount m;
    m.destination = destination;
    m.type = "bind";
    m.source = source;
    m.options = std::vector<std::string>{"rbind", "rprivate"};
    return m;
}

// A spec with a new network namespace (runc spec's default): the VM's network.
oci::Spec spec_with_network() {
    oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces = std::vector<oci::Namespace>{{"network", std::nullopt, {}}};
    return spec;
}

} // namespace

BOOST_AUTO_TEST_CASE(host_namespace_paths_become_new_namespaces) {
    oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces =
        std::vector<oci::Namespace>{{"ipc", std::string("/proc/42/ns/ipc"), {}},
                                    {"pid", std::nullopt, {}},
                                    {"network", {}, {}}};
    std::vector<std::string> notes;
    auto out = guest_spec(spec, "/b/rootfs", &notes);
    BOOST_REQUIRE(out.ok());
    const auto& ns = *out->linux->namespaces;
    BOOST_TEST(ns.size() == 3u);
    BOOST_TEST(ns[0].type == "ipc");
    BOOST_TEST(!ns[0].path.has_value());
    BOOST_TEST(notes.size() == 1u);
}

// The host's network (no network entry) is refused before anything boots, by the monitor
// and by a pod member alike: both take their spec through guest_spec.
BOOST_AUTO_TEST_CASE(a_spec_on_the_hosts_network_is_refused) {
    oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces =
        std::vector<oci::Namespace>{{"pid", std::nullopt, {}}, {"mount", std::nullopt, {}}};
    std::vector<HostShare> shares;
    auto out = guest_spec(spec, "/b/rootfs", nullptr, &shares);
    BOOST_REQUIRE(!out.ok());
    BOOST_TEST(out.error().code() == ENOTSUP);
    BOOST_TEST(out.error().message().find("linux.namespaces has no network namespace") == 0u);
    BOOST_TEST(!guest_spec(oci::Spec{}, "/b/rootfs", nullptr).ok());
}

BOOST_AUTO_TEST_CASE(the_network_namespace_is_the_vms_own) {
    for (const auto& path : {std::optional<std::string>(), std::optional<std::string>("/n/x")}) {
        oci::Spec spec;
        spec.linux.emplace();
        spec.linux->namespaces = std::vector<oci::Namespace>{
            {"pid", std::nullopt, {}}, {"network", path, {}}, {"mount", std::nullopt, {}}};
        spec.linux->sysctl = std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"}};
        std::vector<std::string> notes;
        auto out = guest_spec(spec, "/b/rootfs", &notes);
        BOOST_REQUIRE(out.ok());
        const auto& ns = *out->linux->namespaces;
        BOOST_REQUIRE(ns.size() == 3u);
        BOOST_TEST(ns[0].type == "pid");
        BOOST_TEST(!ns[0].path.has_value());
        BOOST_TEST(ns[1].type == "network");
        BOOST_TEST(ns[1].path.value_or("") == "/proc/1/ns/net");
        BOOST_TEST(ns[2].type == "mount");
        BOOST_TEST(notes.empty());
        // net.* sysctls still have their namespace in the guest (Docker sets some).
        auto valid = oci::validate(*out);
        BOOST_TEST((valid.ok() || valid.error().str().find("network") == std::string::npos),
                   (valid.ok() ? std::string() : valid.error().str()));
    }
}

BOOST_AUTO_TEST_CASE(host_binds_are_left_out_or_replaced) {
    TempDir t;
    const std::string hosts = t.write("hosts", "127.0.0.1 localhost\n");
    const std::string shm = t.path + "/shm";
    BOOST_REQUIRE(::mkdir(shm.c_str(), 0755) == 0);
    oci::Spec spec = spec_with_network();
    oci::Mount proc;
    proc.destination = "/proc";
    proc.type = "proc";
    proc.source = "proc";
    spec.mounts =
        std::vector<oci::Mount>{proc, host_bind(hosts, "/etc/hosts"), host_bind(shm, "/dev/shm"),
                                host_bind("/b/rootfs/data", "/data")};
    std::vector<std::string> notes;
    auto out = guest_spec(spec, "/b/rootfs", &notes);
    BOOST_REQUIRE(out.ok());
    const auto& m = *out->mounts;
    BOOST_REQUIRE(m.size() == 3u);
    BOOST_TEST(m[0].destination == "/proc");
    BOOST_TEST(m[1].destination == "/dev/shm");
    BOOST_TEST(*m[1].type == "tmpfs");
    BOOST_TEST(m[2].destination == "/data"); // inside the rootfs image: unchanged
    BOOST_TEST(*m[2].source == "/b/rootfs/data");
    BOOST_TEST(notes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(host_directory_binds_and_missing_sources_are_errors) {
    TempDir t;
    oci::Spec spec = spec_with_network();
    spec.mounts = std::vector<oci::Mount>{host_bind(t.path, "/data")};
    auto dir = guest_spec(spec, "/b/rootfs", nullptr);
    BOOST_REQUIRE(!dir.ok());
    BOOST_TEST(dir.error().code() == ENOTSUP);
    BOOST_TEST(dir.error().str().find(t.path) != std::string::npos);
    spec.mounts = std::vector<oci::Mount>{host_bind(t.path + "/missing", "/data")};
    auto missing = guest_spec(spec, "/b/rootfs", nullptr);
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().code() == ENOENT);
}

BOOST_AUTO_TEST_CASE(host_binds_become_virtiofs_shares) {
    TempDir t;
    const std::string hosts = t.write("hosts", "127.0.0.1 localhost\n");
    const std::string resolv = t.write("resolv.conf", "nameserver 10.0.0.1\n");
    const std::string vol = t.path + "/vol";
    const std::string shm = t.path + "/shm";
    BOOST_REQUIRE(::mkdir(vol.c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir(shm.c_str(), 0755) == 0);
    oci::Spec spec = spec_with_network();
    oci::Mount ro_vol = host_bind(vol, "/ro");
    ro_vol.options = std::vector<std::string>{"bind", "rw", "ro"};
    oci::Mount rw_again = host_bind(vol, "/rw");
    rw_again.options = std::vector<std::string>{"rbind", "ro", "rw"};
    spec.mounts = std::vector<oci::Mount>{host_bind(hosts, "/etc/hosts"),
                                          host_bind(shm, "/dev/shm"),
                                          host_bind("/b/rootfs/data", "/data"),
                                          host_bind(resolv, "/etc/resolv.conf"),
                                          ro_vol,
                                          rw_again,
                                          host_bind("/dev/null", "/null")};
    std::vector<HostShare> shares;
    std::vector<std::string> notes;
    auto out = guest_spec(spec, "/b/rootfs", &notes, &shares);
    BOOST_REQUIRE(out.ok());
    const auto& m = *out->mounts;
    BOOST_REQUIRE(m.size() == 6u); // /dev/null (a device) is left out
    BOOST_TEST(*m[0].source == "/run/runvm/shared/0");
    BOOST_TEST(m[0].destination == "/etc/hosts");
    BOOST_TEST((*m[0].options == std::vector<std::string>{"rbind", "rprivate"}));
    BOOST_TEST(*m[1].type == "tmpfs"); // /dev/shm: still a tmpfs, not a share
    BOOST_TEST(*m[2].source == "/b/rootfs/data");
    BOOST_TEST(*m[3].source == "/run/runvm/shared/1");
    BOOST_TEST(*m[4].source == "/run/runvm/shared/2");
    BOOST_TEST((*m[4].options == std::vector<std::string>{"bind", "rw", "ro"}));
    BOOST_TEST(*m[5].source == "/run/runvm/shared/3");
    BOOST_REQUIRE(shares.size() == 4u);
    BOOST_TEST(shares[0].source == hosts);
    BOOST_TEST(shares[0].name == "0");
    BOOST_TEST(!shares[0].directory);
    BOOST_TEST(shares[0].recursive);
    BOOST_TEST(!shares[0].readonly);
    BOOST_TEST(shares[1].source == resolv);
    BOOST_TEST(shares[2].source == vol);
    BOOST_TEST(shares[2].directory);
    BOOST_TEST(shares[2].readonly); // the last of rw/ro wins
    BOOST_TEST(!shares[2].recursive);
    BOOST_TEST(!shares[3].readonly);
    BOOST_TEST(shares[3].recursive);
    BOOST_TEST(notes.size() == 6u);
}

BOOST_AUTO_TEST_CASE(without_shares_host_files_are_left_out_and_missing_sources_fail) {
    TempDir t;
    const std::string hosts = t.write("hosts", "127.0.0.1 localhost\n");
    oci::Spec spec = spec_with_network();
    spec.mounts = std::vector<oci::Mount>{host_bind(hosts, "/etc/hosts")};
    auto out = guest_spec(spec, "/b/rootfs", nullptr);
    BOOST_REQUIRE(out.ok());
    BOOST_TEST(out->mounts->empty());
    std::vector<HostShare> shares;
    spec.mounts = std::vector<oci::Mount>{host_bind(t.path + "/missing", "/data")};
    auto missing = guest_spec(spec, "/b/rootfs", nullptr, &shares);
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().code() == ENOENT);
    BOOST_TEST(shares.empty());
}
