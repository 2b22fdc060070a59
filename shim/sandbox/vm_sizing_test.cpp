// The VM's shape from the spec: base + memory limit, vCPUs from the quota or the cpuset,
// and the errors beyond the configured maxima and the host.
#include <boost/test/unit_test.hpp>

#include "shim/sandbox/vm_sizing.hpp"

using namespace runvm;
using namespace runvm::shim;

namespace {
oci::Resources limits(std::optional<int64_t> memory, std::optional<int64_t> quota,
                      std::optional<uint64_t> period, std::optional<std::string> cpus = {}) {
    oci::Resources r;
    r.memory.emplace();
    r.memory->limit = memory;
    r.cpu.emplace();
    r.cpu->quota = quota;
    r.cpu->period = period;
    r.cpu->cpus = cpus;
    return r;
}
} // namespace

BOOST_AUTO_TEST_CASE(no_limits_give_the_configured_defaults) {
    VmSizingRules rules;
    rules.base_memory_mib = 256;
    rules.default_vcpus = 2;
    auto s = size_vm(std::nullopt, rules);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST((*s == VmShape{2, 256}));
    // -1 is "unlimited" in runc's spec: no growth.
    auto unlimited = size_vm(limits(-1, -1, 100000), rules);
    BOOST_REQUIRE(unlimited.ok());
    BOOST_TEST((*unlimited == VmShape{2, 256}));
}

BOOST_AUTO_TEST_CASE(memory_is_base_plus_the_limit_and_vcpus_round_up) {
    VmSizingRules rules;
    auto s = size_vm(limits(int64_t(2) << 30, 350000, 100000), rules); // --memory 2g --cpus 3.5
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->memory_mib == 256u + 2048u);
    BOOST_TEST(s->vcpus == 4u);
    auto odd = size_vm(limits(1, 1, 100000), rules); // a byte still needs a MiB
    BOOST_REQUIRE(odd.ok());
    BOOST_TEST(odd->memory_mib == 257u);
    BOOST_TEST(odd->vcpus == 1u);
    auto cpuset = size_vm(limits(std::nullopt, std::nullopt, std::nullopt, "0-2,7"), rules);
    BOOST_REQUIRE(cpuset.ok());
    BOOST_TEST(cpuset->vcpus == 4u);
}

BOOST_AUTO_TEST_CASE(beyond_the_maxima_or_the_host_is_an_error_naming_the_field) {
    VmSizingRules rules;
    rules.max_memory_mib = 1024;
    rules.max_vcpus = 8;
    rules.host_memory_mib = 4096;
    rules.host_cpus = 4;
    auto mem = size_vm(limits(int64_t(1) << 30, std::nullopt, std::nullopt), rules);
    BOOST_REQUIRE(!mem.ok());
    BOOST_TEST(mem.error().message().find("linux.resources.memory.limit") != std::string::npos);
    BOOST_TEST(mem.error().message().find("max_memory_mib") != std::string::npos);
    rules.max_memory_mib = 0;
    auto host_mem = size_vm(limits(int64_t(8) << 30, std::nullopt, std::nullopt), rules);
    BOOST_REQUIRE(!host_mem.ok());
    BOOST_TEST(host_mem.error().message().find("this host") != std::string::npos);
    auto cpus = size_vm(limits(std::nullopt, 900000, 100000), rules);
    BOOST_REQUIRE(!cpus.ok());
    BOOST_TEST(cpus.error().message().find("linux.resources.cpu.quota") != std::string::npos);
    BOOST_TEST(cpus.error().message().find("max_vcpus") != std::string::npos);
    auto host_cpus = size_vm(limits(std::nullopt, 500000, 100000), rules);
    BOOST_REQUIRE(!host_cpus.ok());
    BOOST_TEST(host_cpus.error().message().find("4 CPUs") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cpuset_counts) {
    BOOST_TEST(count_cpuset("0").value() == 1u);
    BOOST_TEST(count_cpuset("0-3,5,8-9").value() == 7u);
    for (const char* bad : {"", "3-1", "a", "0-", "1,,x"}) {
        auto r = count_cpuset(bad);
        BOOST_REQUIRE_MESSAGE(!r.ok(), bad);
        BOOST_TEST(r.error().message().find("linux.resources.cpu.cpus") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(pod_totals_from_the_cri_sandbox_annotations) {
    auto r =
        pod_sandbox_resources(std::nullopt, {{"io.kubernetes.cri.sandbox-memory", "268435456"},
                                             {"io.kubernetes.cri.sandbox-cpu-quota", "150000"},
                                             {"io.kubernetes.cri.sandbox-cpu-period", "100000"}});
    BOOST_REQUIRE(r.ok());
    auto s = size_vm(*r, VmSizingRules{});
    BOOST_REQUIRE(s.ok());
    BOOST_TEST((*s == VmShape{2, 256 + 256}));
    auto none = pod_sandbox_resources(std::nullopt, {});
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(!none->has_value());
    auto bad = pod_sandbox_resources(std::nullopt, {{"io.kubernetes.cri.sandbox-memory", "lots"}});
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find("io.kubernetes.cri.sandbox-memory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_a_running_vm_cannot_grow_to_is_refused_naming_the_resource) {
    const VmShape vm{2, 512};
    BOOST_TEST(check_fits_vm(limits(int64_t(400) << 20, 200000, 100000), vm, "update").ok());
    auto mem = check_fits_vm(limits(int64_t(500) << 20, std::nullopt, std::nullopt), vm, "update");
    BOOST_REQUIRE(!mem.ok());
    BOOST_TEST(mem.error().message().find("update: memory limit") != std::string::npos);
    auto cpu = check_fits_vm(limits(std::nullopt, 250000, 100000), vm, "container c2");
    BOOST_REQUIRE(!cpu.ok());
    BOOST_TEST(cpu.error().message().find("container c2: cpu quota") != std::string::npos);
}
