// Overrides of the runtime configuration through RUNVM_* environment variables.
#include <array>
#include <cerrno>
#include <cstdlib>

#include "shim/config/config_values.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::config {
namespace {

struct Variable {
    std::string_view name;
    Result<void> (*apply)(std::string_view value, RuntimeConfig& config);
};

template <auto Field, auto Parse>
Result<void> set(std::string_view value, RuntimeConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(config.*Field, Parse(value));
    return Ok();
}

// Paths and programs from the environment are taken as they are: scripts name a guest image
// relative to where they run.
Result<std::string> verbatim(std::string_view value) {
    return std::string(value);
}

template <auto Field>
Result<void> set_path(std::string_view value, RuntimeConfig& config) {
    config.paths.*Field = std::string(value);
    return Ok();
}

Result<void> set_boot_timeout(std::string_view value, RuntimeConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(const uint32_t ms, parse_integer_in(value, 100, 600'000));
    config.boot_timeout = std::chrono::milliseconds(ms);
    return Ok();
}

constexpr std::array<Variable, 16> kVariables = {{
    {"RUNVM_KERNEL", set<&RuntimeConfig::kernel, verbatim>},
    {"RUNVM_INITRD", set<&RuntimeConfig::initrd, verbatim>},
    {"RUNVM_KERNEL_CMDLINE", set<&RuntimeConfig::kernel_cmdline, verbatim>},
    {"RUNVM_HYPERVISOR", set<&RuntimeConfig::hypervisor, parse_hypervisor>},
    {"RUNVM_VCPUS", set<&RuntimeConfig::vcpus, parse_vcpus>},
    {"RUNVM_MEMORY_MIB", set<&RuntimeConfig::memory_mib, parse_memory_mib>},
    {"RUNVM_ROOTFS", set<&RuntimeConfig::rootfs, parse_rootfs_mode>},
    {"RUNVM_BROKER", set_path<&HelperPaths::broker>},
    {"RUNVM_VMM", set_path<&HelperPaths::vmm>},
    {"RUNVM_QEMU", set_path<&HelperPaths::qemu>},
    {"RUNVM_BOOT_TIMEOUT_MS", set_boot_timeout},
    {"RUNVM_TCG_TB_SIZE_MIB", set<&RuntimeConfig::tcg_tb_size_mib, parse_tb_size_mib>},
    {"RUNVM_LOG_MAX_KIB", set<&RuntimeConfig::log_max_kib, parse_log_max_kib>},
    {"RUNVM_JAIL", set<&RuntimeConfig::jail, parse_switch>},
    {"RUNVM_TEMPLATE", set<&RuntimeConfig::template_mode, parse_template_mode>},
    {"RUNVM_TEMPLATE_DIR", set<&RuntimeConfig::template_dir, parse_absolute_path>},
}};

} // namespace

Result<void> apply_environment(RuntimeConfig& config) {
    RuntimeConfig updated = config;
    for (const Variable& variable : kVariables) {
        const char* value = std::getenv(std::string(variable.name).c_str());
        if (value == nullptr || *value == '\0') {
            continue;
        }
        if (auto r = variable.apply(value, updated); !r) {
            return Err(
                Error::with_errno(EINVAL, std::string(variable.name) + ": " + r.error().message()));
        }
    }
    config = std::move(updated);
    return Ok();
}

} // namespace runvm::config
