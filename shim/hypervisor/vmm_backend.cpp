// Writes runvm-vmm's JSON config and its command line.
#include "shim/hypervisor/vmm_backend.hpp"

#include <unistd.h>

#include "base/io.hpp"
#include "shim/hypervisor/host_tsc.hpp"

namespace runvm::shim {

nlohmann::json VmmBackend::make_config(const VmConfig& config) {
    // A kernel without ACPI leaves a VMM through the triple fault of reboot=t.
    std::string cmdline = "console=ttyS0 quiet panic=-1 reboot=t";
    if (auto khz = host_tsc_khz()) {
        cmdline += " tsc_early_khz=" + std::to_string(*khz);
    }
    if (!config.kernel_cmdline.empty()) {
        cmdline += " " + config.kernel_cmdline;
    }
    nlohmann::json devices = nlohmann::json::array();
    devices.push_back(
        {{"type", "vsock"}, {"socket", config.vsock_socket}, {"guest_cid", config.guest_cid}});
    if (!config.blk_socket.empty()) {
        devices.push_back({{"type", "blk"}, {"socket", config.blk_socket}});
    }
    if (!config.console_socket.empty()) {
        devices.push_back({{"type", "console"}, {"socket", config.console_socket}});
    }
    return {{"kernel", config.kernel},
            {"initrd", config.initrd},
            {"cmdline", cmdline},
            {"vcpus", config.vcpus},
            {"memory_mib", config.memory_mib},
            {"serial_log", config.console_log},
            {"vhost_user", devices}};
}

Result<void> VmmBackend::prepare(const VmConfig& config) {
    for (const auto* path : {&config.kernel, &config.initrd}) {
        if (path->empty() || ::access(path->c_str(), R_OK) != 0) {
            return Err(Error::from_errno("runvm-vmm: guest image file '" + *path + "'"));
        }
    }
    if (config.work_dir.empty()) {
        return Err(Error::msg("runvm-vmm: no work directory for its config"));
    }
    const std::string path = config.work_dir + "/vmm.json";
    RUNVM_TRY(write_file_atomic(path, make_config(config).dump(2), 0600));
    argv_ = {config.binary.empty() ? "runvm-vmm" : config.binary, "--config", path};
    log_path_ = config.work_dir + "/vmm.log";
    return Ok();
}

} // namespace runvm::shim
