#include "shim/sandbox/vm_sizing.hpp"

#include <string>

#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"

namespace runvm::shim {
namespace {

constexpr uint64_t mib = 1024 * 1024;

uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

} // namespace

Result<uint32_t> count_cpuset(std::string_view cpus) {
    uint64_t count = 0;
    for (std::string_view range : split(cpus, ',')) {
        if (range.empty()) {
            continue;
        }
        const auto dash = range.find('-');
        const auto first = parse_u64(range.substr(0, dash));
        const auto last =
            dash == std::string_view::npos ? first : parse_u64(range.substr(dash + 1));
        if (!first || !last || *last < *first || *last >= 8192) {
            return Err(Error::msg("linux.resources.cpu.cpus \"" + std::string(cpus) + "\": \"" +
                                  std::string(range) + "\" is not a CPU or range"));
        }
        count += *last - *first + 1;
    }
    if (count == 0) {
        return Err(
            Error::msg("linux.resources.cpu.cpus \"" + std::string(cpus) + "\" names no CPU"));
    }
    return static_cast<uint32_t>(count);
}

Result<VmShape> size_vm(const std::optional<oci::Resources>& resources,
                        const VmSizingRules& rules) {
    VmShape shape{rules.default_vcpus, rules.base_memory_mib};
    const auto* memory = resources && resources->memory ? &*resources->memory : nullptr;
    const auto* cpu = resources && resources->cpu ? &*resources->cpu : nullptr;
    if (memory && memory->limit && *memory->limit > 0) {
        const uint64_t total =
            rules.base_memory_mib + ceil_div(static_cast<uint64_t>(*memory->limit), mib);
        const std::string what = "linux.resources.memory.limit " + std::to_string(*memory->limit) +
                                 " needs a VM of " + std::to_string(total) + " MiB (" +
                                 std::to_string(rules.base_memory_mib) + " MiB base + the limit)";
        if (rules.max_memory_mib != 0 && total > rules.max_memory_mib) {
            return Err(Error::msg(what + ", above the configured max_memory_mib of " +
                                  std::to_string(rules.max_memory_mib) + " MiB"));
        }
        if (rules.host_memory_mib != 0 && total > rules.host_memory_mib) {
            return Err(Error::msg(what + ", more than this host's " +
                                  std::to_string(rules.host_memory_mib) + " MiB"));
        }
        shape.memory_mib = static_cast<uint32_t>(total);
    }
    std::string vcpu_source;
    if (cpu && cpu->quota && *cpu->quota > 0) {
        const uint64_t period = cpu->period && *cpu->period > 0 ? *cpu->period : 100000;
        shape.vcpus = static_cast<uint32_t>(ceil_div(static_cast<uint64_t>(*cpu->quota), period));
        vcpu_source = "linux.resources.cpu.quota " + std::to_string(*cpu->quota) + " over period " +
                      std::to_string(period);
    } else if (cpu && cpu->cpus && !cpu->cpus->empty()) {
        RUNVM_ASSIGN_OR_RETURN(shape.vcpus, count_cpuset(*cpu->cpus));
        vcpu_source = "linux.resources.cpu.cpus \"" + *cpu->cpus + "\"";
    }
    if (!vcpu_source.empty()) {
        const std::string what = vcpu_source + " needs " + std::to_string(shape.vcpus) + " vCPUs";
        if (rules.max_vcpus != 0 && shape.vcpus > rules.max_vcpus) {
            return Err(Error::msg(what + ", above the configured max_vcpus of " +
                                  std::to_string(rules.max_vcpus)));
        }
        if (rules.host_cpus != 0 && shape.vcpus > rules.host_cpus) {
            return Err(Error::msg(what + ", more than this host's " +
                                  std::to_string(rules.host_cpus) + " CPUs"));
        }
    }
    return shape;
}

Result<std::optional<oci::Resources>>
pod_sandbox_resources(const std::optional<oci::Resources>& own,
                      const std::map<std::string, std::string>& annotations) {
    std::optional<oci::Resources> resources = own;
    auto number = [&](const char* key) -> Result<std::optional<uint64_t>> {
        const auto it = annotations.find(key);
        if (it == annotations.end()) {
            return std::optional<uint64_t>();
        }
        const auto value = parse_u64(it->second);
        if (!value || *value > (uint64_t(1) << 62)) {
            return Err(Error::msg(std::string("annotation ") + key + ": \"" + it->second +
                                  "\" is not a number"));
        }
        return std::optional<uint64_t>(*value);
    };
    RUNVM_ASSIGN_OR_RETURN(const auto memory, number("io.kubernetes.cri.sandbox-memory"));
    RUNVM_ASSIGN_OR_RETURN(const auto quota, number("io.kubernetes.cri.sandbox-cpu-quota"));
    RUNVM_ASSIGN_OR_RETURN(const auto period, number("io.kubernetes.cri.sandbox-cpu-period"));
    if (memory && *memory > 0) {
        resources.emplace(resources.value_or(oci::Resources{}));
        resources->memory.emplace(resources->memory.value_or(oci::MemoryResources{}));
        resources->memory->limit = static_cast<int64_t>(*memory);
    }
    if (quota && *quota > 0) {
        resources.emplace(resources.value_or(oci::Resources{}));
        resources->cpu.emplace(resources->cpu.value_or(oci::CpuResources{}));
        resources->cpu->quota = static_cast<int64_t>(*quota);
        resources->cpu->period = period && *period > 0 ? *period : 100000;
    }
    return resources;
}

Result<void> check_fits_vm(const std::optional<oci::Resources>& resources, const VmShape& vm,
                           const std::string& what) {
    const auto* memory = resources && resources->memory ? &*resources->memory : nullptr;
    const auto* cpu = resources && resources->cpu ? &*resources->cpu : nullptr;
    const uint64_t room_mib =
        vm.memory_mib > kGuestReserveMib ? vm.memory_mib - kGuestReserveMib : 0;
    if (memory && memory->limit && *memory->limit > 0 &&
        ceil_div(static_cast<uint64_t>(*memory->limit), mib) > room_mib) {
        return Err(Error::msg(what + ": memory limit " + std::to_string(*memory->limit) +
                              " is more than the VM holds: " + std::to_string(room_mib) + " MiB (" +
                              std::to_string(vm.memory_mib) + " MiB of RAM, not hot-added)"));
    }
    if (cpu && cpu->quota && *cpu->quota > 0) {
        const uint64_t period = cpu->period && *cpu->period > 0 ? *cpu->period : 100000;
        const uint64_t needed = ceil_div(static_cast<uint64_t>(*cpu->quota), period);
        if (needed > vm.vcpus) {
            return Err(Error::msg(what + ": cpu quota " + std::to_string(*cpu->quota) +
                                  " over period " + std::to_string(period) + " needs " +
                                  std::to_string(needed) + " vCPUs, the VM has " +
                                  std::to_string(vm.vcpus) + " (not hot-added)"));
        }
    }
    return {};
}

uint64_t host_memory_mib() {
    auto meminfo = read_file("/proc/meminfo");
    if (!meminfo.ok()) {
        return 0;
    }
    for (std::string_view line : split(*meminfo, '\n')) {
        const auto w = words(line);
        if (w.size() >= 2 && w[0] == "MemTotal:") {
            return parse_u64(w[1]).value_or(0) / 1024;
        }
    }
    return 0;
}

uint32_t host_cpu_count() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<uint32_t>(n) : 0;
}

} // namespace runvm::shim
