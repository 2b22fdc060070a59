// The VM pool: keys, which specs may take a pooled VM, and that each VM is claimed once.
#include <atomic>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "oci/spec_json.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::shim::testing::TempDir;

namespace {

config::RuntimeConfig pooled_settings() {
    config::RuntimeConfig c;
    c.template_mode = config::TemplateMode::automatic;
    return c;
}

oci::Spec spec_of(const std::string& extra) {
    auto spec = oci::parse_spec(R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "process":{"args":["true"],"cwd":"/","user":{"uid":0,"gid":0}}, "linux":{"namespaces":[{"type":"mount"},
        {"type":"network"}])" + extra +
                                "}}");
    BOOST_REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
    return *spec;
}

// A pooled VM's state as its monitor leaves it; `self` makes this process its monitor.
void add_pooled(ContainerStore& store, const std::string& id, const std::string& key, bool ready,
                bool alive = true) {
    BOOST_REQUIRE(store.create_dir(id).ok());
    ContainerRecord r;
    r.id = id;
    r.status = "created";
    r.annotations[kPoolKeyAnnotation] = key;
    BOOST_REQUIRE(r.set_monitor_to_self().ok());
    if (!alive) {
        r.monitor_start_time += 1; // another process's start: the monitor is gone
    }
    BOOST_REQUIRE(store.save(r).ok());
    if (ready) {
        BOOST_REQUIRE(UniqueFd(
            ::open(pool_ready_mark(store, id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)));
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(pool_key_follows_what_shapes_the_vm) {
    const config::RuntimeConfig base = pooled_settings();
    const std::string key = pool_key(base);
    BOOST_TEST(key.size() == 16u);
    BOOST_TEST(pool_key(base) == key);
    for (auto change : std::vector<void (*)(config::RuntimeConfig&)>{
             [](config::RuntimeConfig& c) { c.memory_mib = 512; },
             [](config::RuntimeConfig& c) { c.vcpus = 2; },
             [](config::RuntimeConfig& c) { c.kernel = "/boot/other-vmlinuz"; },
             [](config::RuntimeConfig& c) { c.hypervisor = config::Hypervisor::qemu; },
             [](config::RuntimeConfig& c) { c.jail = false; },
             [](config::RuntimeConfig& c) { c.kernel_cmdline = "quiet"; },
         }) {
        config::RuntimeConfig c = base;
        change(c);
        BOOST_TEST(pool_key(c) != key);
    }
    // What does not shape the VM leaves the key alone.
    config::RuntimeConfig c = base;
    c.pool_size = 4;
    c.pool_idle_seconds = 30;
    c.boot_timeout = std::chrono::milliseconds(5000);
    BOOST_TEST(pool_key(c) == key);
}

BOOST_AUTO_TEST_CASE(specs_that_shape_their_vm_boot_their_own) {
    const auto settings = pooled_settings();
    BOOST_TEST(!pool_refusal(spec_of(""), "c1", settings, 0).has_value());
    auto refused = [&](const std::string& extra, const std::string& why, uid_t euid = 0,
                       const std::string& id = "c1") {
        const auto r = pool_refusal(spec_of(extra), id, settings, euid);
        BOOST_TEST_CONTEXT(extra) {
            BOOST_REQUIRE(r.has_value());
            BOOST_TEST(r->find(why) != std::string::npos, *r << " lacks " << why);
        }
    };
    refused("", "not root", 1000);
    refused("", "pooled VM's", 0, "runvm-pool-0123456789abcdef-00000000");
    BOOST_TEST(!pool_refusal(spec_of(R"(,"cgroupsPath":"/docker/c1")"), "c1", settings, 0));
    refused(R"(,"resources":{"memory":{"limit":104857600}})", "limits");
    refused(R"(,"resources":{"cpu":{"quota":50000,"period":100000}})", "limits");
    refused(R"(,"resources":{"cpu":{"cpus":"0-1"}})", "limits");
    config::RuntimeConfig off = settings;
    off.template_mode = config::TemplateMode::off;
    BOOST_TEST(*pool_refusal(spec_of(""), "c1", off, 0) == "template: off");
    config::RuntimeConfig block = settings;
    block.rootfs = config::RootfsMode::block;
    BOOST_TEST(*pool_refusal(spec_of(""), "c1", block, 0) == "rootfs: block");

    oci::Spec netns = spec_of("");
    (*netns.linux->namespaces)[1].path = "/var/run/netns/cni-1";
    // Its interfaces take the pooled VM's spare links (run_in_pooled_vm counts them).
    BOOST_TEST(!pool_refusal(netns, "c1", settings, 0));
    oci::Spec annotated = spec_of("");
    annotated.annotations = std::map<std::string, std::string>{{"io.runvm.vcpus", "2"}};
    BOOST_TEST(*pool_refusal(annotated, "c1", settings, 0) == "annotation io.runvm.vcpus");
    // A pod's sandbox takes a pooled VM unless the pod's totals size its VM; its app
    // containers join it there.
    annotated.annotations =
        std::map<std::string, std::string>{{"io.kubernetes.cri.container-type", "sandbox"}};
    BOOST_TEST(!pool_refusal(annotated, "c1", settings, 0));
    annotated.annotations->emplace("io.kubernetes.cri.sandbox-memory", "268435456");
    BOOST_TEST(pool_refusal(annotated, "c1", settings, 0)->find("totals") != std::string::npos);
    annotated.annotations =
        std::map<std::string, std::string>{{"io.kubernetes.cri.container-type", "sandbox"},
                                           {"io.kubernetes.cri.sandbox-cpu-quota", "x"}};
    BOOST_TEST(pool_refusal(annotated, "c1", settings, 0).has_value());
    annotated.annotations = std::map<std::string, std::string>{
        {"io.kubernetes.cri.container-type", "container"}, {"io.kubernetes.cri.sandbox-id", "p1"}};
    BOOST_TEST(*pool_refusal(annotated, "c1", settings, 0) ==
               "a pod's app container (it joins its pod's VM)");
    oci::Spec host_network = spec_of("");
    host_network.linux->namespaces->pop_back(); // docker --network host, a hostNetwork pod
    BOOST_TEST(*pool_refusal(host_network, "c1", settings, 0) == "no network namespace (refused)");
    oci::Spec hooked = spec_of("");
    hooked.hooks.emplace();
    // Its hooks run around the container's create and start (member_process.cpp).
    BOOST_TEST(!pool_refusal(hooked, "c1", settings, 0));
}

BOOST_AUTO_TEST_CASE(only_a_ready_running_vm_of_the_key_is_claimed_and_only_once) {
    TempDir d;
    ContainerStore store(d.path + "/root");
    const std::string key = "0123456789abcdef";
    BOOST_TEST(!claim_pool_vm(store, key).has_value()); // no root yet: nothing to take
    add_pooled(store, "runvm-pool-" + key + "-00000001", key, false);
    add_pooled(store, "runvm-pool-fedcba9876543210-00000002", "fedcba9876543210", true);
    add_pooled(store, "runvm-pool-" + key + "-00000003", key, true, false);
    BOOST_TEST(!claim_pool_vm(store, key).has_value());
    add_pooled(store, "runvm-pool-" + key + "-00000004", key, true);
    BOOST_TEST(*claim_pool_vm(store, key) == "runvm-pool-" + key + "-00000004");
    BOOST_TEST(!claim_pool_vm(store, key).has_value());

    std::map<std::string, std::string> states;
    for (const auto& e : list_pool(store)) {
        states[e.id] = e.state;
    }
    BOOST_TEST(states["runvm-pool-" + key + "-00000001"] == "booting");
    BOOST_TEST(states["runvm-pool-fedcba9876543210-00000002"] == "ready");
    BOOST_TEST(states["runvm-pool-" + key + "-00000003"] == "stopped");
    BOOST_TEST(states["runvm-pool-" + key + "-00000004"] == "claimed");
    BOOST_TEST(states.size() == 4u);
}

BOOST_AUTO_TEST_CASE(concurrent_claims_get_different_vms) {
    TempDir d;
    ContainerStore store(d.path + "/root");
    const std::string key = "00000000000000aa";
    for (int i = 0; i < 3; ++i) {
        add_pooled(store, "runvm-pool-" + key + "-0000000" + std::to_string(i), key, true);
    }
    std::mutex mu;
    std::vector<std::string> got;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            if (auto vm = claim_pool_vm(store, key)) {
                std::lock_guard lock(mu);
                got.push_back(*vm);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    BOOST_TEST(got.size() == 3u);
    BOOST_TEST(std::set<std::string>(got.begin(), got.end()).size() == 3u);
}

BOOST_AUTO_TEST_CASE(pool_ids) {
    const std::string id = new_pool_vm_id("0123456789abcdef");
    BOOST_TEST(is_pool_vm_id(id));
    BOOST_TEST(id.size() == std::string("runvm-pool-0123456789abcdef-01234567").size());
    BOOST_TEST(validate_container_id(id).ok());
    BOOST_TEST(new_pool_vm_id("0123456789abcdef") != id);
    BOOST_TEST(!is_pool_vm_id("web"));
}
