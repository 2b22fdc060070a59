// A container's resources on both sides of its VM (docs/resources.md): the VM sized from
// the spec's limits, the container's host cgroup that the monitor and the VM's processes
// join, and updates that change the guest's cgroup and the host's in one step.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/container/monitor_options.hpp"
#include "shim/container/monitor_state.hpp"

namespace runvm::shim {

// Sets settings.vcpus and memory_mib from s.spec's limits (a pod's sandbox: the pod's CRI
// totals), within the configured ceilings and the host; records the shape in s.vm.
Result<void> size_vm_from_spec(MonitorState& s, config::RuntimeConfig& settings, bool pod_sandbox);

// As root: makes the container's host cgroup (linux.cgroupsPath), limits its memory to the
// VM's RAM plus its overhead when the spec limits memory, and moves this process into it,
// before the VM boots, so the broker and the hypervisor start there and the guest RAM they
// touch is charged there. Rootless: nothing (the host's cgroups are not runvm's to make).
Result<void> join_host_cgroup(MonitorState& s, const MonitorOptions& o,
                              const config::RuntimeConfig& settings);

// The spec's CPU quota, for the host cgroup once the VM has booted.
HostCgroupLimits host_cpu_limits(const oci::Spec& spec);

// `runvm update`'s resources (runtime-spec LinuxResources JSON): refused, naming the
// resource, when the VM cannot hold them; else the agent updates the guest's cgroup and
// the host cgroup takes the new CPU quota.
Result<void> update_resources(MonitorState& s, const std::string& id,
                              const nlohmann::json& resources);

// The host cgroup's allowance beyond guest RAM: vm_overhead_mib, else an estimate that
// covers QEMU with its TCG translation cache (the larger backend).
uint32_t vm_overhead_mib(const config::RuntimeConfig& settings);

} // namespace runvm::shim
