#include "shim/container/vm_resources.hpp"

#include <unistd.h>

#include "oci/spec_json.hpp"
#include "shim/sandbox/vm_sizing.hpp"

namespace runvm::shim {
namespace {

// QEMU's own anonymous memory beside its translation cache, the broker and the monitor,
// measured at about 60 MiB together (docs/benchmarks.md, "Resources"), with headroom.
constexpr uint32_t kProcessOverheadMib = 128;

const std::optional<oci::Resources>& resources_of(const oci::Spec& spec) {
    static const std::optional<oci::Resources> none;
    return spec.linux ? spec.linux->resources : none;
}

} // namespace

uint32_t vm_overhead_mib(const config::RuntimeConfig& settings) {
    return settings.vm_overhead_mib != 0 ? settings.vm_overhead_mib
                                         : kProcessOverheadMib + settings.tcg_tb_size_mib;
}

Result<void> size_vm_from_spec(MonitorState& s, config::RuntimeConfig& settings, bool pod_sandbox) {
    std::optional<oci::Resources> resources = resources_of(s.spec);
    if (pod_sandbox && s.spec.annotations) {
        RUNVM_ASSIGN_OR_RETURN(resources, pod_sandbox_resources(resources, *s.spec.annotations));
    }
    VmSizingRules rules;
    rules.base_memory_mib = settings.memory_mib;
    rules.default_vcpus = settings.vcpus;
    rules.max_memory_mib = settings.max_memory_mib;
    rules.max_vcpus = settings.max_vcpus;
    rules.host_memory_mib = host_memory_mib();
    rules.host_cpus = host_cpu_count();
    RUNVM_ASSIGN_OR_RETURN(s.vm, size_vm(resources, rules));
    settings.vcpus = s.vm.vcpus;
    settings.memory_mib = s.vm.memory_mib;
    s.vm_overhead_mib = vm_overhead_mib(settings);
    return {};
}

Result<void> join_host_cgroup(MonitorState& s, const MonitorOptions& o,
                              const config::RuntimeConfig& settings) {
    if (::geteuid() != 0) {
        return {};
    }
    const auto& linux = s.spec.linux;
    RUNVM_ASSIGN_OR_RETURN(
        const CgroupPlacement placement,
        resolve_cgroups_path(linux ? linux->cgroups_path : std::nullopt, o.systemd_cgroup, o.id));
    RUNVM_ASSIGN_OR_RETURN(const CgroupLayout layout, read_cgroup_layout());
    RUNVM_ASSIGN_OR_RETURN(HostCgroup cgroup, HostCgroup::create(layout, placement));
    {
        std::lock_guard lock(s.mu);
        s.record.host_cgroups = cgroup.made();
        s.save_locked();
    }
    s.host_cgroup = std::move(cgroup);
    const auto& resources = resources_of(s.spec);
    if (resources && resources->memory && resources->memory->limit &&
        *resources->memory->limit > 0) {
        HostCgroupLimits limits;
        limits.memory_bytes = (uint64_t(settings.memory_mib) + s.vm_overhead_mib) << 20;
        RUNVM_TRY(s.host_cgroup->set_memory(limits));
    }
    return s.host_cgroup->add_process(::getpid());
}

HostCgroupLimits host_cpu_limits(const oci::Spec& spec) {
    HostCgroupLimits limits;
    const auto& resources = resources_of(spec);
    if (resources && resources->cpu && resources->cpu->quota && *resources->cpu->quota > 0) {
        limits.cpu_quota_us = resources->cpu->quota;
        limits.cpu_period_us = resources->cpu->period;
    }
    return limits;
}

Result<void> update_resources(MonitorState& s, const std::string& id,
                              const nlohmann::json& resources) {
    RUNVM_ASSIGN_OR_RETURN(
        const oci::Spec wrapped,
        oci::spec_from_json({{"ociVersion", "1.0.2"}, {"linux", {{"resources", resources}}}}));
    const auto& parsed = wrapped.linux->resources;
    RUNVM_TRY(check_fits_vm(parsed, s.vm, "update " + id));
    RUNVM_TRY(s.sandbox->agent().update(id, resources.dump()));
    // A pooled VM's container has a cgroup of its own, where the VM's processes run.
    std::optional<HostCgroup> target = s.host_cgroup;
    {
        std::lock_guard lock(s.mu);
        if (auto it = s.members.find(id); it != s.members.end() && it->second->host_cgroup) {
            target = it->second->host_cgroup;
        }
    }
    if (target) {
        oci::Spec as_spec;
        as_spec.linux.emplace();
        as_spec.linux->resources = parsed;
        RUNVM_TRY(target->set_cpu(host_cpu_limits(as_spec)));
    }
    return {};
}

} // namespace runvm::shim
