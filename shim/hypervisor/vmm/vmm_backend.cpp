// Writes runvm-vmm's JSON config (its own MachineConfig, encoded by vmm/machine/config) and its
// command line.
#include "shim/hypervisor/vmm/vmm_backend.hpp"

#include <fcntl.h>
#include <grp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/io.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/hypervisor/guest_boot_options.hpp"
#include "shim/hypervisor/jail_command.hpp"

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
                      "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd " +
                      guest_boot_options(settings);
    machine.vcpus = settings.vcpus;
    machine.memory_mib = settings.memory_mib;
    machine.serial_log = config.console_log;
    machine.control_socket = config.control_socket;
    // `runvm --debug` gets the VMM's own phases (setup, restore) in vmm.log too.
    if (spdlog::should_log(spdlog::level::debug)) {
        machine.log_level = "debug";
    }
    machine.restore = config.restore_dir;
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
    vmm::MachineConfig machine = machine_config(config);
    if (!config.restore_dir.empty()) {
        RUNVM_ASSIGN_OR_RETURN(machine.restore_state_fd,
                               inherit(config.restore_state_fd, "template state"));
        RUNVM_ASSIGN_OR_RETURN(machine.restore_memory_fd,
                               inherit(config.restore_memory_fd, "template memory"));
    }
    if (!config.settings.jail) {
        RUNVM_TRY(write_file_atomic(path, vmm::encode_machine_config(machine), 0600));
        argv_ = {program(config.settings), "--config", path};
    } else {
        // /dev/kvm is root:kvm 0660 where udev made it; a host without the group has none.
        std::vector<std::string> groups;
        if (::getgrnam("kvm") != nullptr) {
            groups.push_back("kvm");
        }
        RUNVM_TRY(resolve_jail_user(config, groups));
        if (!machine.serial_log.empty()) {
            RUNVM_ASSIGN_OR_RETURN(machine.serial_log,
                                   hand_over(machine.serial_log, O_WRONLY, "console log"));
        }
        // Read-only in the jail, readable by its user: it holds paths, nothing secret.
        RUNVM_TRY(write_file_atomic(path, vmm::encode_machine_config(machine), 0644));
        RUNVM_ASSIGN_OR_RETURN(const std::string vmm, absolute_program(program(config.settings)));
        RUNVM_ASSIGN_OR_RETURN(jail::JailSpec spec,
                               hypervisor_jail(config, {vmm, "--config", path}));
        spec.binds.push_back({path, true});
        if (!config.snapshot_dir.empty()) {
            spec.binds.push_back({config.snapshot_dir, false});
        }
        spec.devices.push_back("kvm");
        spec.group_add = groups;
        spec.seccomp = jail::SeccompProfile::vmm;
        spec.keep_fds = handed_fds();
        argv_ = jail::jail_argv(jail_program(), spec);
    }
    RUNVM_TRY(set_log(config, config.work_dir + "/vmm.log"));
    work_files_ = {log_path_, path};
    return Ok();
}

} // namespace runvm::shim
