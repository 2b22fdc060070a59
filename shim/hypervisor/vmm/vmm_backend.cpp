// Writes runvm-vmm's JSON config (its own MachineConfig, encoded by vmm/machine/config) and its
// command line.
#include "shim/hypervisor/vmm/vmm_backend.hpp"

#include <unistd.h>

#include "base/io.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/hypervisor/host_tsc.hpp"

namespace runvm::shim {

std::string VmmBackend::program(const config::RuntimeConfig& settings) const {
    return config::helper_program(settings.paths.vmm, config::HelperPaths{}.vmm, "vmm");
}

vmm::MachineConfig VmmBackend::machine_config(const VmConfig& config) {
    const config::RuntimeConfig& settings = config.settings;
    vmm::MachineConfig machine;
    machine.kernel = config::guest_kernel(settings);
    machine.initrd = config::guest_initrd(settings);
    // This replaces runvm-vmm's default command line, so it carries the same basics: no PCI
    // (devices are virtio-mmio found through the VMM's ACPI tables), one UART, and reboot=k
    // so a panic's reboot leaves through the i8042 reset (status 0) rather than a triple
    // fault (status 3). The agent's poweroff ends the VMM through ACPI S5 (status 0).
    machine.cmdline = "console=ttyS0 quiet pci=off 8250.nr_uarts=1 panic=-1 reboot=k "
                      "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";
    if (auto khz = host_tsc_khz()) {
        machine.cmdline += " tsc_early_khz=" + std::to_string(*khz);
    }
    if (!settings.kernel_cmdline.empty()) {
        machine.cmdline += " " + settings.kernel_cmdline;
    }
    machine.vcpus = settings.vcpus;
    machine.memory_mib = settings.memory_mib;
    machine.serial_log = config.console_log;
    // The guest's CID is the broker's (--vsock ...,cid=): a device entry has no CID of its own.
    machine.devices.push_back({"vsock", config.vsock_socket});
    if (!config.blk_socket.empty()) {
        machine.devices.push_back({"blk", config.blk_socket});
    }
    if (!config.fs_socket.empty()) { // the tag is in the device's config space (GET_CONFIG)
        machine.devices.push_back({"fs", config.fs_socket});
    }
    if (!config.console_socket.empty()) {
        machine.devices.push_back({"console", config.console_socket});
    }
    // The MAC is the broker's (--net ...,mac=): runvm-vmm reads config space through GET_CONFIG.
    for (const auto& net : config.net_devices) {
        machine.devices.push_back({"net", net.socket});
    }
    return machine;
}

nlohmann::json VmmBackend::make_config(const VmConfig& config) {
    return nlohmann::json::parse(vmm::encode_machine_config(machine_config(config)));
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
    RUNVM_TRY(write_file_atomic(path, vmm::encode_machine_config(machine_config(config)), 0600));
    argv_ = {program(config.settings), "--config", path};
    RUNVM_TRY(set_log(config, config.work_dir + "/vmm.log"));
    work_files_ = {log_path_, path};
    return Ok();
}

} // namespace runvm::shim
