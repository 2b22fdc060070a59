// MachineConfig: everything one runvm-vmm process needs to know about its VM, read from
// one JSON document (the sandbox library writes it with encode_machine_config) and/or
// command-line flags (vmm/cli/command_line.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "vmm/arch/x86_64/cpuid.hpp"

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
    std::string serial_log;     // empty: the VMM's stdout
    std::string control_socket; // empty: none
    // Feature names hidden from the guest, see docs/vmm.md.
    std::vector<std::string> cpuid_mask = x86_64::default_cpuid_mask();
    // ACPI tables describe the vCPUs and devices; false (or acpi=off in cmdline) puts the
    // virtio-mmio devices on the command line instead (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES).
    bool acpi = true;
    bool seccomp = true;
    std::string log_level = "info";
    std::string kvm_device = "/dev/kvm";
    // A snapshot directory (state + memory, docs/vmm.md "Snapshots"): the VM is built from it
    // instead of booting `kernel`, which is then not needed; vcpus and memory_mib come from
    // the snapshot.
    std::string restore;
    // Inherited fds of the snapshot's `state` and `memory` files, read instead of opening them
    // in `restore`: a jailed VMM cannot open a root-only template (the shim hands them over).
    // -1: by path.
    int restore_state_fd = -1;
    int restore_memory_fd = -1;
};

// Parses JSON text; unknown keys are errors so a typo cannot be silently ignored.
Result<MachineConfig> parse_machine_config(const std::string& json_text);
// The same without the final validation, for a document that flags complete (runvm-vmm
// --config with --kernel): main() validates the merged result.
Result<MachineConfig> decode_machine_config(const std::string& json_text);
Result<void> validate_machine_config(const MachineConfig& config);

// The JSON document decode_machine_config reads back (the sandbox library writes vmm.json with
// it): kernel, initrd, cmdline, vcpus, memory_mib, serial_log and devices always, every other
// key only where it differs from its default.
std::string encode_machine_config(const MachineConfig& config);

// Whether the guest learns of virtio-mmio devices from `virtio_mmio.device=` words on its
// command line rather than from the DSDT: with acpi false or "acpi=off" in the cmdline.
bool virtio_devices_on_cmdline(const MachineConfig& config);

} // namespace runvm::vmm
