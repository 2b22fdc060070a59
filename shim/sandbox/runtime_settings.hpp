// RuntimeSettings: where the guest image and helper programs are and how big a VM is;
// defaults, then /etc/runvm/config.yaml, then the environment (RUNVM_*), then the bundle's
// io.runvm.* annotations.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <sys/types.h>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/hypervisor/backend.hpp"

namespace runvm::shim {

struct RuntimeSettings {
    std::string kernel;
    std::string initrd;
    std::string kernel_cmdline;
    HypervisorKind hypervisor = HypervisorKind::automatic;
    uint32_t vcpus = 1;
    uint64_t memory_mib = 256;
    // docs/config.md, key rootfs; never automatic here (resolve_rootfs_mode).
    config::RootfsMode rootfs = config::RootfsMode::block;
    std::string broker_binary;
    std::string vmm_binary;
    std::string qemu_binary;
    std::chrono::milliseconds boot_timeout{30'000};
};

// `auto` becomes virtiofs for root (euid 0) and block for anyone else.
config::RootfsMode resolve_rootfs_mode(config::RootfsMode mode, uid_t euid);

// Defaults: the image from scripts/build-guest-image.sh (/var/cache/runvm/image), helpers
// beside this executable, in the build tree, or on PATH.
RuntimeSettings default_settings();

// config.yaml's VM keys (docs/config.md): kernel and initrd when set, hypervisor, vcpus,
// memory_mib, rootfs, and paths.* other than the default names (which keep the helpers
// found beside this executable).
void apply_config(RuntimeSettings& s, const config::RuntimeConfig& c);

// The file named by RUNVM_CONFIG, else /etc/runvm/config.yaml (a missing file: defaults),
// applied by apply_config; an invalid file is an error naming its line and key.
Result<void> apply_config_file(RuntimeSettings& s);

// RUNVM_KERNEL, RUNVM_INITRD, RUNVM_HYPERVISOR, RUNVM_VCPUS, RUNVM_MEMORY_MIB,
// RUNVM_BROKER, RUNVM_VMM, RUNVM_QEMU, RUNVM_BOOT_TIMEOUT_MS, RUNVM_KERNEL_CMDLINE,
// RUNVM_ROOTFS.
Result<void> apply_environment(RuntimeSettings& s);

// io.runvm.vcpus, io.runvm.memory (MiB), io.runvm.kernel, io.runvm.initrd,
// io.runvm.hypervisor, io.runvm.rootfs.
Result<void> apply_annotations(RuntimeSettings& s,
                               const std::map<std::string, std::string>& annotations);

// Finds a helper program: beside /proc/self/exe, then <exe dir>/../<build_subdir>/, then
// PATH. Returns `name` itself when nothing matched (execvp reports it).
std::string find_helper(const std::string& name, const std::string& build_subdir);

} // namespace runvm::shim
