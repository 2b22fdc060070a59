// runvm's settings, one type from /etc/runvm/config.yaml through the RUNVM_* environment and
// the bundle's io.runvm.* annotations down to the hypervisor backend that boots the VM.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/log.hpp"
#include "base/result.hpp"

namespace runvm::config {

inline constexpr const char* kDefaultConfigPath = "/etc/runvm/config.yaml";

// automatic: runvm-vmm on KVM when /dev/kvm opens, else QEMU with TCG (shim/hypervisor
// resolves it when the VM boots).
enum class Hypervisor { automatic, kvm, qemu };

std::string_view hypervisor_name(Hypervisor h); // "auto", "kvm", "qemu"

// How the container's rootfs reaches the guest. block: an ext4 image copied from the
// bundle's rootfs, served by the broker's blk device; virtiofs: the bundle's rootfs
// directory itself, through the VM's virtio-fs share (writes land on the host, as with runc);
// automatic: virtiofs when runvm runs as root (it bind-mounts the rootfs), else block.
enum class RootfsMode { automatic, block, virtiofs };

std::string_view rootfs_mode_name(RootfsMode m); // "auto", "block", "virtiofs"

// `automatic` becomes virtiofs for root (euid 0) and block for anyone else.
RootfsMode resolve_rootfs_mode(RootfsMode mode, uid_t euid);

// Whether containers start in a VM booted ahead of them (issue #23, docs/design/fast-start.md):
// automatic: where the backend and the container allow it (on QEMU: a pool of booted VMs,
// `runvm template`); off: every container boots its own VM.
enum class TemplateMode { automatic, off };

std::string_view template_mode_name(TemplateMode m); // "auto", "off"

// Where scripts/build-guest-image.sh puts the guest image: the kernel and initramfs used when
// none is configured.
inline constexpr const char* kDefaultGuestImageDir = "/var/cache/runvm/image";

// Helper programs; a name without a slash is looked up in $PATH.
struct HelperPaths {
    std::string broker = "runvm-broker";
    std::string vmm = "runvm-vmm";
    std::string qemu = "qemu-system-x86_64";
    bool operator==(const HelperPaths&) const = default;
};

// Which io.runvm.* annotations a bundle may use: none unless the operator lists them
// (deny by default, docs/config.md "Per-container annotations").
// The ids each VM's jailed processes run as, one per VM (docs/security.md, "One uid per VM"):
// first..first+count-1, as uid and gid alike.
struct IdRange {
    uint32_t first = 1879113728; // just after the jail user's subordinate range (jail-user.sh)
    uint32_t count = 65536;
    bool operator==(const IdRange&) const = default;
};

struct AnnotationPolicy {
    std::vector<std::string> enabled; // io.runvm.* keys of annotations.cpp's table
    // A path annotation (kernel, initrd) must resolve inside one of these directories without
    // a symlink leading out of it.
    std::vector<std::string> allowed_paths;
    bool operator==(const AnnotationPolicy&) const = default;
};

// Every setting has one field here; config.yaml, the environment and the annotations write
// it, the sandbox and the hypervisor backends read it.
struct RuntimeConfig {
    Hypervisor hypervisor = Hypervisor::automatic;
    std::string kernel;         // empty: the guest image's default kernel (guest_kernel)
    std::string initrd;         // empty: the guest image's default initramfs (guest_initrd)
    std::string kernel_cmdline; // RUNVM_KERNEL_CMDLINE: after the backend's own arguments
    uint32_t vcpus = 1;         // kMinVcpus..kMaxVcpus
    uint32_t memory_mib = 256;  // kMinMemoryMib..kMaxMemoryMib; the base when sized from a limit
    // Ceilings of a VM sized from the container's limits (0: only the host's size caps it).
    uint32_t max_vcpus = 0;
    uint32_t max_memory_mib = 0;
    // The host cgroup's allowance beyond guest RAM (hypervisor, broker, monitor); 0: the
    // backend's own estimate (docs/resources.md).
    uint32_t vm_overhead_mib = 0;
    // QEMU TCG's translation cache (-accel tcg,tb-size=), MiB: QEMU 7.2's default of 1 GiB
    // fills with retranslated code in a busy guest (docs/resources.md).
    uint32_t tcg_tb_size_mib = 64;
    // The cap on each log the guest can fill in the VM directory (console, hypervisor,
    // broker), KiB; each is kept as <file> and <file>.1 of half as much (docs/sandbox.md).
    uint32_t log_max_kib = 1024;
    RootfsMode rootfs = RootfsMode::automatic;
    TemplateMode template_mode = TemplateMode::automatic;
    uint32_t pool_size = 1;           // booted VMs kept ready per VM shape (1..16)
    uint32_t pool_idle_seconds = 300; // an unclaimed pooled VM shuts down after this long
    // runvm-vmm's saved templates (docs/design/fast-start.md): root's, 0700; each 0600.
    std::string template_dir = "/var/lib/runvm/templates";
    std::chrono::milliseconds boot_timeout{30'000}; // RUNVM_BOOT_TIMEOUT_MS: the agent's deadline
    std::string log_level = "info";                 // trace, debug, info, warn, error
    LogFormat log_format = LogFormat::text;
    std::string log_file;                  // empty: stderr
    std::string state_root = "/run/runvm"; // where oci::StateStore keeps containers
    HelperPaths paths;
    AnnotationPolicy annotations;
    // Every broker and hypervisor process runs jailed as `jail_user` (docs/security.md, "Jail");
    // off only for development.
    bool jail = true;
    std::string jail_user = "runvm";
    IdRange jail_vm_ids;
    bool operator==(const RuntimeConfig&) const = default;
};

// `source` names the text in errors, which read "<source>:<line>: <key>: <rule>".
Result<RuntimeConfig> parse_runtime_config(std::string_view yaml_text, const std::string& source);

// A missing file means the defaults; an unreadable or invalid one is an error.
Result<RuntimeConfig> load_runtime_config(const std::string& path = kDefaultConfigPath);

// The guest image's files: the configured path, else the default image's.
std::string guest_kernel(const RuntimeConfig& config);
std::string guest_initrd(const RuntimeConfig& config);

// The io.runvm.* annotations of annotations.hpp's table override `base`, each only where
// base.annotations enables its key, a path only inside base.annotations.allowed_paths, vCPUs
// and memory only up to base's ceilings. Any refused or unknown io.runvm.* key, or a bad
// value, is an error naming the annotation. Other annotations are left to their owners.
Result<RuntimeConfig> apply_annotations(const RuntimeConfig& base,
                                        const std::map<std::string, std::string>& annotations);

// The RUNVM_* variables of environment.cpp's table override `config`; a bad value is an error
// naming the variable, and leaves `config` as it was.
Result<void> apply_environment(RuntimeConfig& config);

} // namespace runvm::config
