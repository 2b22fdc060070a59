// runvm's runtime configuration: /etc/runvm/config.yaml plus per-container annotation overrides.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/log.hpp"
#include "base/result.hpp"

namespace runvm::config {

inline constexpr const char* kDefaultConfigPath = "/etc/runvm/config.yaml";

// automatic: runvm-vmm on KVM when /dev/kvm opens, else QEMU with TCG.
enum class Hypervisor { automatic, kvm, qemu };

std::string_view hypervisor_name(Hypervisor h); // "auto", "kvm", "qemu"

// How the container's rootfs reaches the guest. block: an ext4 image copied from the
// bundle's rootfs, served by the broker's blk device; virtiofs: the bundle's rootfs
// directory itself, through the VM's virtio-fs share (writes land on the host, as with runc);
// automatic: virtiofs when runvm runs as root (it bind-mounts the rootfs), else block.
enum class RootfsMode { automatic, block, virtiofs };

std::string_view rootfs_mode_name(RootfsMode m); // "auto", "block", "virtiofs"

// Helper programs; a name without a slash is looked up in $PATH.
struct HelperPaths {
    std::string broker = "runvm-broker";
    std::string vmm = "runvm-vmm";
    std::string qemu = "qemu-system-x86_64";
    bool operator==(const HelperPaths&) const = default;
};

struct RuntimeConfig {
    Hypervisor hypervisor = Hypervisor::automatic;
    std::string kernel;        // empty: the guest image's default kernel
    std::string initrd;        // empty: the guest image's default initramfs
    uint32_t vcpus = 1;        // 1..255
    uint32_t memory_mib = 256; // 64..1048576
    RootfsMode rootfs = RootfsMode::automatic;
    std::string log_level = "info"; // trace, debug, info, warn, error
    LogFormat log_format = LogFormat::text;
    std::string log_file;                  // empty: stderr
    std::string state_root = "/run/runvm"; // where oci::StateStore keeps containers
    HelperPaths paths;
    bool operator==(const RuntimeConfig&) const = default;
};

// `source` names the text in errors, which read "<source>:<line>: <key>: <rule>".
Result<RuntimeConfig> parse_runtime_config(std::string_view yaml_text, const std::string& source);

// A missing file means the defaults; an unreadable or invalid one is an error.
Result<RuntimeConfig> load_runtime_config(const std::string& path = kDefaultConfigPath);

// The io.runvm.{vcpus,memory_mib,kernel,hypervisor,rootfs} annotations override `base`; a bad
// value is an error naming the annotation. Other annotations are left to their owners.
Result<RuntimeConfig> apply_annotations(const RuntimeConfig& base,
                                        const std::map<std::string, std::string>& annotations);

} // namespace runvm::config
