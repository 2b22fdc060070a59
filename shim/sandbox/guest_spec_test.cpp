// guest_spec: host namespaces and host bind mounts as the guest sees them.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

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

} // namespace

BOOST_AUTO_TEST_CASE(host_namespace_paths_become_new_namespaces) {
    oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces = std::vector<oci::Namespace>{
        {"network", std::string("/var/run/docker/netns/abc"), {}}, {"pid", std::nullopt, {}}};
    std::vector<std::string> notes;
    auto out = guest_spec(spec, "/b/rootfs", &notes);
    BOOST_REQUIRE(out.ok());
    const auto& ns = *out->linux->namespaces;
    BOOST_TEST(ns.size() == 2u);
    BOOST_TEST(ns[0].type == "network");
    BOOST_TEST(!ns[0].path.has_value());
    BOOST_TEST(notes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(host_binds_are_left_out_or_replaced) {
    TempDir t;
    const std::string hosts = t.write("hosts", "127.0.0.1 localhost\n");
    const std::string shm = t.path + "/shm";
    BOOST_REQUIRE(::mkdir(shm.c_str(), 0755) == 0);
    oci::Spec spec;
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
    oci::Spec spec;
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
