// The VM's shape from the container's spec: memory = a base (the guest kernel, the agent and
// page-cache headroom) plus the container's memory limit, vCPUs = the CPU quota over its
// period rounded up, else the cpuset's CPU count, else the configured default. Beyond the
// configured maxima or the host's size it is an error naming the field: a VM smaller than
// its container's limits would OOM-kill or throttle a workload that fits them.
#pragma once

#include <cstdint>
#include <optional>
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

// "0-3,5" -> 5; an error names what does not parse.
Result<uint32_t> count_cpuset(std::string_view cpus);

// This host's MemTotal in MiB and online CPUs, for VmSizingRules.
uint64_t host_memory_mib();
uint32_t host_cpu_count();

} // namespace runvm::shim
