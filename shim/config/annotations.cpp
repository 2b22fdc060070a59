// Per-container overrides of the runtime configuration through io.runvm.* annotations: deny by
// default, each key only where the operator enabled it, paths and sizes confined.
#include "shim/config/annotations.hpp"

#include <array>
#include <cerrno>

#include <unistd.h>

#include "shim/config/allowed_path.hpp"
#include "shim/config/config_values.hpp"

namespace runvm::config {
namespace {

template <auto Field, auto Parse>
Result<void> set(std::string_view value, RuntimeConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(config.*Field, Parse(value));
    return Ok();
}

template <auto Field>
Result<void> allowed_path(const RuntimeConfig& operator_config, RuntimeConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(
        config.*Field,
        resolve_allowed_path(config.*Field, operator_config.annotations.allowed_paths));
    return Ok();
}

uint64_t host_cpus() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<uint64_t>(n) : 1;
}

uint64_t host_memory_mib() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20
                                 : 0;
}

Result<void> at_most(uint64_t value, uint64_t ceiling, const std::string& what) {
    if (value > ceiling) {
        return Err(Error::with_errno(EPERM, std::to_string(value) + " is above the ceiling of " +
                                                std::to_string(ceiling) + " (" + what + ")"));
    }
    return Ok();
}

Result<void> vcpu_ceiling(const RuntimeConfig& operator_config, RuntimeConfig& config) {
    if (operator_config.max_vcpus != 0) {
        return at_most(config.vcpus, operator_config.max_vcpus, "max_vcpus");
    }
    return at_most(config.vcpus, host_cpus(), "this host's CPUs; max_vcpus is not set");
}

Result<void> memory_ceiling(const RuntimeConfig& operator_config, RuntimeConfig& config) {
    if (operator_config.max_memory_mib != 0) {
        return at_most(config.memory_mib, operator_config.max_memory_mib, "max_memory_mib");
    }
    return at_most(config.memory_mib, host_memory_mib(),
                   "this host's memory in MiB; max_memory_mib is not set");
}

constexpr std::array kAnnotations = {
    AnnotationKey{"io.runvm.vcpus", "vcpus",
                  "vCPUs of the container's VM, 1 to 255, at most max_vcpus (else the host's)",
                  set<&RuntimeConfig::vcpus, parse_vcpus>, vcpu_ceiling},
    AnnotationKey{"io.runvm.memory", "memory_mib",
                  "memory of the container's VM in MiB, 64 to 1048576, at most max_memory_mib "
                  "(else the host's)",
                  set<&RuntimeConfig::memory_mib, parse_memory_mib>, memory_ceiling},
    AnnotationKey{
        "io.runvm.kernel", "kernel", "guest kernel, an absolute path inside annotations.paths",
        set<&RuntimeConfig::kernel, parse_absolute_path>, allowed_path<&RuntimeConfig::kernel>},
    AnnotationKey{
        "io.runvm.initrd", "initrd", "guest initramfs, an absolute path inside annotations.paths",
        set<&RuntimeConfig::initrd, parse_absolute_path>, allowed_path<&RuntimeConfig::initrd>},
    AnnotationKey{"io.runvm.hypervisor", "hypervisor", "auto, kvm (runvm-vmm) or qemu",
                  set<&RuntimeConfig::hypervisor, parse_hypervisor>},
    AnnotationKey{"io.runvm.rootfs", "rootfs",
                  "auto (virtiofs as root, else block), block (an ext4 copy) or virtiofs (the "
                  "directory itself)",
                  set<&RuntimeConfig::rootfs, parse_rootfs_mode>},
    AnnotationKey{"io.runvm.template", "template",
                  "auto (start in a VM booted ahead, where the backend allows) or off (boot one)",
                  set<&RuntimeConfig::template_mode, parse_template_mode>},
};

bool enabled(const RuntimeConfig& operator_config, std::string_view key) {
    for (const auto& k : operator_config.annotations.enabled) {
        if (k == key) {
            return true;
        }
    }
    return false;
}

} // namespace

std::span<const AnnotationKey> annotation_keys() {
    return kAnnotations;
}

const AnnotationKey* find_annotation_key(std::string_view key) {
    for (const AnnotationKey& known : kAnnotations) {
        if (known.key == key) {
            return &known;
        }
    }
    return nullptr;
}

Result<RuntimeConfig> apply_annotations(const RuntimeConfig& base,
                                        const std::map<std::string, std::string>& annotations) {
    RuntimeConfig config = base;
    for (const auto& entry : annotations) {
        // Named, not a structured binding: clang 14 (the fuzz build) cannot capture those.
        const std::string& key = entry.first;
        const std::string& value = entry.second;
        if (key.rfind(kAnnotationPrefix, 0) != 0) {
            continue;
        }
        auto refused = [&key](int code, const std::string& why) {
            return Err(Error::with_errno(code, "annotation " + key + ": " + why));
        };
        const AnnotationKey* known = find_annotation_key(key);
        if (known == nullptr) {
            return refused(EINVAL, "unknown key (`runvm features` lists the known ones)");
        }
        if (!enabled(base, key)) {
            return refused(EPERM, "not enabled by the runtime's configuration "
                                  "(config.yaml annotations.enable)");
        }
        if (auto r = known->apply(value, config); !r) {
            return refused(EINVAL, r.error().message());
        }
        if (known->confine != nullptr) {
            if (auto r = known->confine(base, config); !r) {
                return Err(r.error().context("annotation " + key));
            }
        }
    }
    return config;
}

} // namespace runvm::config
