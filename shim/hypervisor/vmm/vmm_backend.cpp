// Writes runvm-vmm's JSON config and its command line.
#include "shim/hypervisor/vmm/vmm_backend.hpp"

#include <unistd.h>

#include "base/io.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/hypervisor/host_tsc.hpp"

namespace runvm::shim {

std::string VmmBackend::program(const config::RuntimeConfig& settings) const {
    return config::helper_program(settings.paths.vmm, config::HelperPaths{}.vmm, "vmm");
}

nlohmann::json VmmBackend::make_config(const VmConfig& config) {
    const config::RuntimeConfig& settings = config.settings;
    // This replaces runvm-vmm's default command line, so it carries the same basics: no PCI
    // (devices are virtio-mmio found through the VMM's ACPI tables), one UART, and reboot=k
    // so a panic's reboot leaves through the i8042 reset (status 0) rather than a triple
    // fault (status 3). The agent's poweroff ends the VMM through ACPI S5 (status 0).
    std::string cmdline = "console=ttyS0 quiet pci=off 8250.nr_uarts=1 panic=-1 reboot=k "
                          "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";
    if (auto khz = host_tsc_khz()) {
        cmdline += " tsc_early_khz=" + std::to_string(*khz);
    }
    if (!settings.kernel_cmdline.empty()) {
        cmdline += " " + settings.kernel_cmdline;
    }
    nlohmann::json devices = nlohmann::json::array();
    // The guest's CID is the broker's (--vsock ...,cid=): a device entry has no CID of its own.
    devices.push_back({{"type", "vsock"}, {"socket", config.vsock_socket}});
    if (!config.blk_socket.empty()) {
        devices.push_back({{"type", "blk"}, {"socket", config.blk_socket}});
    }
    if (!config.fs_socket.empty()) { // the tag is in the device's config space (GET_CONFIG)
        devices.push_back({{"type", "fs"}, {"socket", config.fs_socket}});
    }
    if (!config.console_socket.empty()) {
        devices.push_back({{"type", "console"}, {"socket", config.console_socket}});
    }
    // The MAC is the broker's (--net ...,mac=): runvm-vmm reads config space through GET_CONFIG.
    for (const auto& net : config.net_devices) {
        devices.push_back({{"type", "net"}, {"socket", net.socket}});
    }
    return {{"kernel", config::guest_kernel(settings)},
            {"initrd", config::guest_initrd(settings)},
            {"cmdline", cmdline},
            {"vcpus", settings.vcpus},
            {"memory_mib", settings.memory_mib},
            {"serial_log", config.console_log},
            {"devices", devices}};
}

Result<void> VmmBackend::prepare(const VmConfig& config) {
    for (const std::string& path :
         {config::guest_kernel(config.settings), config::guest_initrd(config.settings)}) {
        if (::access(path.c_str(), R_OK) != 0) {
            return Err(Error::from_errno("runvm-vmm: guest image file '" + path + "'"));
        }
    }
    if (config.work_dir.empty()) {
        return Err(Error::msg("runvm-vmm: no work directory for its config"));
    }
    const std::string path = config.work_dir + "/vmm.json";
    RUNVM_TRY(write_file_atomic(path, make_config(config).dump(2), 0600));
    argv_ = {program(config.settings), "--config", path};
    log_path_ = config.work_dir + "/vmm.log";
    work_files_ = {log_path_, path};
    return Ok();
}

} // namespace runvm::shim
