// Runtime settings from defaults, environment and annotations.
#include "shim/sandbox/runtime_settings.hpp"

#include <cstdlib>

#include <limits.h>
#include <unistd.h>

#include "base/text.hpp"
#include "shim/config/config_values.hpp"

namespace runvm::shim {

namespace {

Result<uint64_t> parse_number(const std::string& text, const std::string& what, uint64_t lo,
                              uint64_t hi) {
    const auto parsed = parse_u64(text);
    const uint64_t v = parsed.value_or(0);
    if (!parsed || v < lo || v > hi) {
        return Err(Error::with_errno(EINVAL, what + ": '" + text + "' is not a number in " +
                                                 std::to_string(lo) + ".." + std::to_string(hi)));
    }
    return v;
}

std::string self_dir() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return "";
    }
    std::string exe(buf, static_cast<size_t>(n));
    return exe.substr(0, exe.rfind('/'));
}

Result<config::RootfsMode> parse_rootfs(const std::string& text, const std::string& what) {
    auto mode = config::parse_rootfs_mode(text);
    if (!mode) {
        return Err(Error::with_errno(EINVAL, what + ": " + mode.error().message()));
    }
    return resolve_rootfs_mode(*mode, ::geteuid());
}

} // namespace

std::string find_helper(const std::string& name, const std::string& build_subdir) {
    const std::string dir = self_dir();
    if (!dir.empty()) {
        for (const std::string& candidate :
             {dir + "/" + name, dir + "/../../" + build_subdir + "/" + name,
              dir + "/../" + build_subdir + "/" + name}) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
        }
    }
    return name;
}

config::RootfsMode resolve_rootfs_mode(config::RootfsMode mode, uid_t euid) {
    if (mode != config::RootfsMode::automatic) {
        return mode;
    }
    // virtio-fs starts faster (no image to build, no ext4 to mount in the guest) and keeps
    // runc's semantics (writes land in the bundle's rootfs), but the bind mount into the
    // share needs root.
    return euid == 0 ? config::RootfsMode::virtiofs : config::RootfsMode::block;
}

RuntimeSettings default_settings() {
    RuntimeSettings s;
    s.rootfs = resolve_rootfs_mode(config::RootfsMode::automatic, ::geteuid());
    const std::string image = "/var/cache/runvm/image";
    s.kernel = image + "/vmlinuz";
    s.initrd = image + "/initramfs.cpio";
    s.broker_binary = find_helper("runvm-broker", "broker");
    s.vmm_binary = find_helper("runvm-vmm", "vmm");
    s.qemu_binary = "qemu-system-x86_64";
    return s;
}

void apply_config(RuntimeSettings& s, const config::RuntimeConfig& c) {
    if (!c.kernel.empty()) {
        s.kernel = c.kernel;
    }
    if (!c.initrd.empty()) {
        s.initrd = c.initrd;
    }
    switch (c.hypervisor) {
    case config::Hypervisor::automatic:
        s.hypervisor = HypervisorKind::automatic;
        break;
    case config::Hypervisor::kvm:
        s.hypervisor = HypervisorKind::kvm;
        break;
    case config::Hypervisor::qemu:
        s.hypervisor = HypervisorKind::qemu;
        break;
    }
    s.vcpus = c.vcpus;
    s.memory_mib = c.memory_mib;
    s.rootfs = resolve_rootfs_mode(c.rootfs, ::geteuid());
    const config::HelperPaths defaults;
    if (c.paths.broker != defaults.broker) {
        s.broker_binary = c.paths.broker;
    }
    if (c.paths.vmm != defaults.vmm) {
        s.vmm_binary = c.paths.vmm;
    }
    if (c.paths.qemu != defaults.qemu) {
        s.qemu_binary = c.paths.qemu;
    }
}

Result<void> apply_config_file(RuntimeSettings& s) {
    const char* path = std::getenv("RUNVM_CONFIG");
    RUNVM_ASSIGN_OR_RETURN(
        auto c, config::load_runtime_config(path && *path ? path : config::kDefaultConfigPath));
    apply_config(s, c);
    return Ok();
}

Result<void> apply_environment(RuntimeSettings& s) {
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v ? v : "";
    };
    if (auto v = env("RUNVM_KERNEL"); !v.empty()) {
        s.kernel = v;
    }
    if (auto v = env("RUNVM_INITRD"); !v.empty()) {
        s.initrd = v;
    }
    if (auto v = env("RUNVM_KERNEL_CMDLINE"); !v.empty()) {
        s.kernel_cmdline = v;
    }
    if (auto v = env("RUNVM_HYPERVISOR"); !v.empty()) {
        RUNVM_ASSIGN_OR_RETURN(s.hypervisor, parse_hypervisor_kind(v));
    }
    if (auto v = env("RUNVM_VCPUS"); !v.empty()) {
        RUNVM_ASSIGN_OR_RETURN(uint64_t n, parse_number(v, "RUNVM_VCPUS", 1, 64));
        s.vcpus = static_cast<uint32_t>(n);
    }
    if (auto v = env("RUNVM_MEMORY_MIB"); !v.empty()) {
        RUNVM_ASSIGN_OR_RETURN(s.memory_mib, parse_number(v, "RUNVM_MEMORY_MIB", 64, 1 << 20));
    }
    if (auto v = env("RUNVM_ROOTFS"); !v.empty()) {
        RUNVM_ASSIGN_OR_RETURN(s.rootfs, parse_rootfs(v, "RUNVM_ROOTFS"));
    }
    if (auto v = env("RUNVM_BROKER"); !v.empty()) {
        s.broker_binary = v;
    }
    if (auto v = env("RUNVM_VMM"); !v.empty()) {
        s.vmm_binary = v;
    }
    if (auto v = env("RUNVM_QEMU"); !v.empty()) {
        s.qemu_binary = v;
    }
    if (auto v = env("RUNVM_BOOT_TIMEOUT_MS"); !v.empty()) {
        RUNVM_ASSIGN_OR_RETURN(uint64_t ms, parse_number(v, "RUNVM_BOOT_TIMEOUT_MS", 100, 600'000));
        s.boot_timeout = std::chrono::milliseconds(ms);
    }
    return Ok();
}

Result<void> apply_annotations(RuntimeSettings& s,
                               const std::map<std::string, std::string>& annotations) {
    for (const auto& [key, value] : annotations) {
        if (key == "io.runvm.vcpus") {
            RUNVM_ASSIGN_OR_RETURN(uint64_t n, parse_number(value, key, 1, 64));
            s.vcpus = static_cast<uint32_t>(n);
        } else if (key == "io.runvm.memory") {
            RUNVM_ASSIGN_OR_RETURN(s.memory_mib, parse_number(value, key, 64, 1 << 20));
        } else if (key == "io.runvm.kernel") {
            s.kernel = value;
        } else if (key == "io.runvm.initrd") {
            s.initrd = value;
        } else if (key == "io.runvm.hypervisor") {
            RUNVM_ASSIGN_OR_RETURN(s.hypervisor, parse_hypervisor_kind(value));
        } else if (key == "io.runvm.rootfs") {
            RUNVM_ASSIGN_OR_RETURN(s.rootfs, parse_rootfs(value, "annotation " + key));
        }
    }
    return Ok();
}

} // namespace runvm::shim
