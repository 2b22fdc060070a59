// Per-container overrides of the runtime configuration through io.runvm.* annotations.
#include "shim/config/annotations.hpp"

#include <array>
#include <cerrno>

#include "shim/config/config_values.hpp"

namespace runvm::config {
namespace {

template <auto Field, auto Parse>
Result<void> set(std::string_view value, RuntimeConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(config.*Field, Parse(value));
    return Ok();
}

constexpr std::array kAnnotations = {
    AnnotationKey{"io.runvm.vcpus", "vcpus", "vCPUs of the container's VM, 1 to 255",
                  set<&RuntimeConfig::vcpus, parse_vcpus>},
    AnnotationKey{"io.runvm.memory", "memory_mib",
                  "memory of the container's VM in MiB, 64 to 1048576",
                  set<&RuntimeConfig::memory_mib, parse_memory_mib>},
    AnnotationKey{"io.runvm.kernel", "kernel", "guest kernel, an absolute path",
                  set<&RuntimeConfig::kernel, parse_absolute_path>},
    AnnotationKey{"io.runvm.initrd", "initrd", "guest initramfs, an absolute path",
                  set<&RuntimeConfig::initrd, parse_absolute_path>},
    AnnotationKey{"io.runvm.hypervisor", "hypervisor", "auto, kvm (runvm-vmm) or qemu",
                  set<&RuntimeConfig::hypervisor, parse_hypervisor>},
    AnnotationKey{"io.runvm.rootfs", "rootfs",
                  "auto (virtiofs as root, else block), block (an ext4 copy) or virtiofs (the "
                  "directory itself)",
                  set<&RuntimeConfig::rootfs, parse_rootfs_mode>},
};

} // namespace

std::span<const AnnotationKey> annotation_keys() {
    return kAnnotations;
}

Result<RuntimeConfig> apply_annotations(const RuntimeConfig& base,
                                        const std::map<std::string, std::string>& annotations) {
    RuntimeConfig config = base;
    for (const AnnotationKey& known : kAnnotations) {
        const auto it = annotations.find(std::string(known.key));
        if (it == annotations.end()) {
            continue;
        }
        if (auto r = known.apply(it->second, config); !r) {
            return Err(
                Error::with_errno(EINVAL, "annotation " + it->first + ": " + r.error().message()));
        }
    }
    return config;
}

} // namespace runvm::config
