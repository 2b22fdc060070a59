// Per-container overrides of the runtime configuration through io.runvm.* annotations.
#include <cerrno>

#include "shim/config/config_values.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::config {
namespace {

template <typename T>
Result<void> override_with(const std::map<std::string, std::string>& annotations,
                           const std::string& name, T& field,
                           Result<T> (*parse)(std::string_view)) {
    const auto it = annotations.find(name);
    if (it == annotations.end()) {
        return Ok();
    }
    auto value = parse(it->second);
    if (!value) {
        return Err(
            Error::with_errno(EINVAL, "annotation " + name + ": " + value.error().message()));
    }
    field = std::move(*value);
    return Ok();
}

} // namespace

Result<RuntimeConfig> apply_annotations(const RuntimeConfig& base,
                                        const std::map<std::string, std::string>& annotations) {
    RuntimeConfig config = base;
    RUNVM_TRY(override_with<uint32_t>(annotations, "io.runvm.vcpus", config.vcpus, parse_vcpus));
    RUNVM_TRY(override_with<uint32_t>(annotations, "io.runvm.memory_mib", config.memory_mib,
                                      parse_memory_mib));
    RUNVM_TRY(override_with<std::string>(annotations, "io.runvm.kernel", config.kernel,
                                         parse_absolute_path));
    RUNVM_TRY(override_with<Hypervisor>(annotations, "io.runvm.hypervisor", config.hypervisor,
                                        parse_hypervisor));
    RUNVM_TRY(override_with<RootfsMode>(annotations, "io.runvm.rootfs", config.rootfs,
                                        parse_rootfs_mode));
    return config;
}

} // namespace runvm::config
