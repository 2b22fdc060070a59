// Pods: roles from the CRI annotations, members' paths in the share, their bind sources,
// the add_container mounts check, and where a member's control requests go.
#include <boost/test/unit_test.hpp>

#include "shim/container/container_ops.hpp"
#include "shim/container/pod.hpp"

using namespace runvm::shim;
using nlohmann::json;

BOOST_AUTO_TEST_CASE(pod_roles_from_cri_annotations) {
    BOOST_TEST(int(pod_placement("a", {}).role) == int(PodRole::standalone));
    BOOST_TEST(
        int(pod_placement("p", {{kCriContainerType, "sandbox"}, {kCriSandboxId, "p"}}).role) ==
        int(PodRole::sandbox));
    const auto m = pod_placement("c", {{kCriContainerType, "container"}, {kCriSandboxId, "p"}});
    BOOST_TEST(int(m.role) == int(PodRole::member));
    BOOST_TEST(m.sandbox_id == "p");
    // A container naming itself, no sandbox id, or another type: no pod to join.
    BOOST_TEST(
        int(pod_placement("c", {{kCriContainerType, "container"}, {kCriSandboxId, "c"}}).role) ==
        int(PodRole::standalone));
    BOOST_TEST(int(pod_placement("c", {{kCriContainerType, "container"}}).role) ==
               int(PodRole::standalone));
    BOOST_TEST(int(pod_placement("c", {{kCriContainerType, "other"}, {kCriSandboxId, "p"}}).role) ==
               int(PodRole::standalone));
    // The sandbox id alone (containerd's shim grouping) does not make a member.
    BOOST_TEST(int(pod_placement("c", {{kCriSandboxId, "p"}}).role) == int(PodRole::standalone));
}

BOOST_AUTO_TEST_CASE(member_paths_in_the_pod_share) {
    BOOST_TEST(member_share_dir("/run/runvm-vm/ab/shared", "c1") ==
               "/run/runvm-vm/ab/shared/containers/c1");
    BOOST_TEST(member_guest_rootfs("c1") == "/run/runvm/shared/containers/c1/rootfs");
}

BOOST_AUTO_TEST_CASE(member_bind_sources_move_under_its_directory) {
    runvm::oci::Spec spec;
    spec.mounts.emplace();
    auto add = [&](const std::string& dst, const std::string& src) {
        runvm::oci::Mount m;
        m.destination = dst;
        m.source = src;
        spec.mounts->push_back(m);
    };
    add("/etc/hosts", "/run/runvm/shared/0");
    add("/data", "/run/runvm/shared/1");
    add("/proc", "proc");
    add("/other", "/run/runvm/shared/7"); // not one of this container's shares
    std::vector<HostShare> shares(2);
    shares[0].name = "0";
    shares[1].name = "1";
    relocate_member_sources(spec, "c1", shares);
    BOOST_TEST(*(*spec.mounts)[0].source == "/run/runvm/shared/containers/c1/0");
    BOOST_TEST(*(*spec.mounts)[1].source == "/run/runvm/shared/containers/c1/1");
    BOOST_TEST(*(*spec.mounts)[2].source == "proc");
    BOOST_TEST(*(*spec.mounts)[3].source == "/run/runvm/shared/7");
}

BOOST_AUTO_TEST_CASE(add_container_mounts_are_checked) {
    auto ok = parse_member_mounts(
        json::parse(R"([{"name":"rootfs","directory":true},{"name":"0","directory":false}])"));
    BOOST_REQUIRE(ok.ok());
    BOOST_TEST(ok->size() == 2u);
    BOOST_TEST(!(*ok)[1].directory);
    for (const char* bad : {R"({"name":"rootfs"})", R"([{"name":"../x"}])", R"([{"name":"a/b"}])",
                            R"([{"name":".."}])", R"([{"name":""}])", R"([{"nom":"a"}])",
                            R"([{"name":"a"},{"name":"a"}])", R"([{"name":1}])"}) {
        BOOST_TEST(!parse_member_mounts(json::parse(bad)).ok(), bad);
    }
    json many = json::array();
    for (int i = 0; i < 65; ++i) {
        many.push_back({{"name", std::to_string(i)}});
    }
    BOOST_TEST(!parse_member_mounts(many).ok());
}

BOOST_AUTO_TEST_CASE(member_requests_go_to_the_pod_monitor) {
    ContainerStore store("/run/runvm-test-root");
    ContainerRecord own;
    own.id = "solo";
    BOOST_TEST(control_socket_of(store, own) == store.control_socket("solo"));
    ContainerRecord member;
    member.id = "c1";
    member.pod_sandbox = "pod";
    BOOST_TEST(control_socket_of(store, member) == store.control_socket("pod"));
    // The pod id survives the record's round trip.
    auto back = ContainerRecord::from_json(member.to_json());
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->pod_sandbox == "pod");
    BOOST_TEST(!own.to_json().contains("pod_sandbox"));
}

BOOST_AUTO_TEST_CASE(members_join_the_sandbox_namespaces_cri_points_at) {
    auto ns = [](std::string type, std::optional<std::string> path) {
        runvm::oci::Namespace n;
        n.type = std::move(type);
        n.path = std::move(path);
        return n;
    };
    runvm::oci::Spec spec;
    spec.linux.emplace();
    spec.linux->namespaces = std::vector<runvm::oci::Namespace>{
        ns("pid", std::nullopt),          ns("ipc", "/proc/42/ns/ipc"),
        ns("uts", "/proc/42/ns/uts"),     ns("mount", std::nullopt),
        ns("network", "/proc/42/ns/net"), ns("cgroup", "/proc/7/ns/cgroup")};
    // CRI's paths name the sandbox's host pid; net is the VM's anyway, another pid is not
    // the sandbox.
    const auto types = sandbox_namespaces(spec, 42);
    BOOST_TEST(types == (std::vector<std::string>{"ipc", "uts"}), boost::test_tools::per_element());
    BOOST_TEST(sandbox_namespaces(spec, 43).empty());

    auto guest = spec;
    BOOST_REQUIRE(join_sandbox_namespaces(guest, types, 37).ok());
    const auto& joined = *guest.linux->namespaces;
    BOOST_TEST(*joined[1].path == "/proc/37/ns/ipc");
    BOOST_TEST(*joined[2].path == "/proc/37/ns/uts");
    BOOST_TEST(!joined[0].path.has_value()); // pid: the container's own

    auto bad = join_sandbox_namespaces(guest, {"mount"}, 37);
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().str().find("\"mount\" is not ipc, uts or pid") != std::string::npos);
    runvm::oci::Spec none;
    auto missing = join_sandbox_namespaces(none, {"ipc"}, 37);
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().str().find("no ipc namespace") != std::string::npos);
}
