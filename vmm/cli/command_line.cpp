// runvm-vmm's flags, bound to the fields of the MachineConfig that --config starts from.
#include "vmm/cli/command_line.hpp"

#include <cstdio>
#include <string_view>

#include <CLI/CLI.hpp>

#include "base/io.hpp"
#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/machine/exit_status.hpp"

namespace runvm::vmm {

namespace {

// --config's value, looked for before the flags are parsed: they overwrite what it says.
std::string config_path_in(int argc, const char* const* argv) {
    std::string path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            path = argv[++i];
        } else if (arg.starts_with("--config=")) {
            path = std::string(arg.substr(9));
        }
    }
    return path;
}

// The document, or without one the defaults.
Result<MachineConfig> starting_config(const std::string& path) {
    if (path.empty()) {
        return MachineConfig{};
    }
    RUNVM_ASSIGN_OR_RETURN(const std::string text, read_file(path));
    return decode_machine_config(text);
}

std::vector<std::string> cpuid_mask_from_flag(const std::string& flag) {
    if (flag == "kvm_pvm") {
        return x86_64::kvm_pvm_cpuid_mask();
    }
    std::vector<std::string> mask;
    for (size_t at = 0; at <= flag.size();) {
        const size_t comma = std::min(flag.find(',', at), flag.size());
        mask.push_back(flag.substr(at, comma - at));
        at = comma + 1;
    }
    return mask;
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "runvm-vmm: %s\n", message.c_str());
    return kExitUsage;
}

} // namespace

std::variant<MachineConfig, int> parse_command_line(int argc, const char* const* argv) {
    const std::string config_path = config_path_in(argc, argv);
    auto start = starting_config(config_path);
    if (!start.ok()) {
        return usage_error(start.error().str());
    }
    MachineConfig config = std::move(start).value();

    CLI::App app{"runvm-vmm: a thin KVM VMM; devices come from runvm-broker over vhost-user"};
    std::string config_flag; // read above, before the flags
    std::vector<std::string> devices;
    std::string cpuid_mask;
    app.add_option("--config", config_flag, "JSON machine config (flags below override it)");
    app.add_option("--kernel", config.kernel, "vmlinux (ELF), bzImage, or a raw test image");
    app.add_option("--kernel-format", config.kernel_format, "auto, elf, bzimage, raw16, raw64");
    app.add_option("--initrd", config.initrd, "initramfs");
    app.add_option("--cmdline", config.cmdline, "kernel command line");
    app.add_option("--vcpus", config.vcpus, "vCPU count");
    app.add_option("--memory-mib", config.memory_mib, "guest RAM in MiB");
    app.add_option("--device", devices, "TYPE=SOCKET, a vhost-user device (repeatable)");
    app.add_option("--serial-log", config.serial_log,
                   "serial console output file (default stdout)");
    app.add_option("--control-socket", config.control_socket,
                   "Unix socket for 'status', 'stop', 'snapshot DIR', 'snapshot-and-stop DIR'");
    app.add_option("--restore", config.restore,
                   "build the VM from a snapshot directory (state, memory) instead of a kernel");
    app.add_option("--cpuid-mask", cpuid_mask,
                   "features hidden from the guest, comma-separated, or kvm_pvm");
    app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error, off");
    app.add_flag_callback(
        "--no-seccomp", [&config] { config.seccomp = false; },
        "keep capabilities and skip seccomp (debugging)");
    app.add_flag_callback(
        "--no-acpi", [&config] { config.acpi = false; },
        "no ACPI tables; virtio-mmio devices go on the kernel command line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (!cpuid_mask.empty()) {
        config.cpuid_mask = cpuid_mask_from_flag(cpuid_mask);
    }
    for (const auto& d : devices) {
        const auto eq = d.find('=');
        if (eq == std::string::npos) {
            return usage_error("--device " + d + ": want TYPE=SOCKET");
        }
        config.devices.push_back({d.substr(0, eq), d.substr(eq + 1)});
    }
    if (auto v = validate_machine_config(config); !v.ok()) {
        return usage_error(v.error().str());
    }
    return config;
}

} // namespace runvm::vmm
