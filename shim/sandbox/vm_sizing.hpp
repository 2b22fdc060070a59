// The VM's shape from the container's spec: memory = a base (the guest kernel, the agent and
// page-cache headroom) plus the container's memory limit, vCPUs = the CPU quota over its
// period rounded up, else the cpuset's CPU count, else the configured default. Beyond the
// configured maxima or the host's size it is an error naming the field: a VM smaller than
// its container's limits would OOM-kill or throttle a workload that fits them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::shim {

struct VmSizingRules {
    uint32_t base_memory_mib = 256; // config memory_mib
    uint32_t default_vcpus = 1;     // config vcpus: when the spec says nothing
    uint32_t max_memory_mib = 0;    // 0: no configured maximum
    uint32_t max_vcpus = 0;         // 0: no configured maximum
    uint64_t host_memory_mib = 0;   // MemTotal; 0: unknown (not checked)
    uint32_t host_cpus = 0;         // online CPUs; 0: unknown (not checked)
};

struct VmShape {
    uint32_t vcpus = 1;
    uint32_t memory_mib = 256;
    bool operator==(const VmShape&) const = default;
};

Result<VmShape> size_vm(const std::optional<oci::Resources>& resources, const VmSizingRules& rules);

// What sizes a pod's VM: containerd's CRI passes the pod's totals to its sandbox container
// as annotations (io.kubernetes.cri.sandbox-memory, -cpu-quota, -cpu-period); they take the
// place of the pause container's own (tiny) limits where present.
Result<std::optional<oci::Resources>>
pod_sandbox_resources(const std::optional<oci::Resources>& own,
                      const std::map<std::string, std::string>& annotations);

// What a running VM leaves to its containers: its RAM less what the guest kernel and agent
// keep (kGuestReserveMib), and its vCPUs. A limit beyond it (an update, a pod member) is
// refused with an error naming the field: memory and vCPUs are not hot-added.
inline constexpr uint32_t kGuestReserveMib = 64;
Result<void> check_fits_vm(const std::optional<oci::Resources>& resources, const VmShape& vm,
                           const std::string& what);

// "0-3,5" -> 5; an error names what does not parse.
Result<uint32_t> count_cpuset(std::string_view cpus);

// This host's MemTotal in MiB and online CPUs, for VmSizingRules.
uint64_t host_memory_mib();
uint32_t host_cpu_count();

} // namespace runvm::shim
