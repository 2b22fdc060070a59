// MachineConfig: everything one runvm-vmm process needs to know about its VM, read from
// one JSON document (the sandbox library writes it) and/or command-line flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::vmm {

struct VhostUserDeviceConfig {
    std::string type;   // "vsock", "blk", "console", "fs", "net"
    std::string socket; // the broker's vhost-user socket for this device
};

struct MachineConfig {
    std::string kernel;
    std::string kernel_format = "auto"; // auto, elf, bzimage, raw16, raw64
    std::string initrd;
    std::string cmdline = "console=ttyS0 reboot=k panic=-1 pci=off "
                          "8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";
    uint32_t vcpus = 1;
    uint64_t memory_mib = 256;
    std::vector<VhostUserDeviceConfig> devices;
    std::string serial_log;              // empty: the VMM's stdout
    std::string control_socket;          // empty: none
    std::vector<std::string> cpuid_mask; // feature names, see docs/vmm.md
    bool seccomp = true;
    std::string log_level = "info";
    std::string kvm_device = "/dev/kvm";
};

// Parses JSON text; unknown keys are errors so a typo cannot be silently ignored.
Result<MachineConfig> parse_machine_config(const std::string& json_text);
Result<void> validate_machine_config(const MachineConfig& config);

} // namespace runvm::vmm
