// runvm-vmm: one VM per process, configured by a JSON document and/or flags.
#include <csignal>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "base/io.hpp"
#include "base/log.hpp"
#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/machine/exit_status.hpp"
#include "vmm/machine/machine.hpp"

using namespace runvm;
using namespace runvm::vmm;

int main(int argc, char** argv) {
    const auto start = Machine::Clock::now();
    CLI::App app{"runvm-vmm: a thin KVM VMM; devices come from runvm-broker over vhost-user"};
    std::string config_path, kernel, initrd, cmdline, serial_log, control, format, log_level;
    std::vector<std::string> devices;
    std::string cpuid_mask;
    uint32_t vcpus = 0;
    uint64_t memory = 0;
    bool no_seccomp = false;
    bool no_acpi = false;
    app.add_option("--config", config_path, "JSON machine config (flags below override it)");
    app.add_option("--kernel", kernel, "vmlinux (ELF), bzImage, or a raw test image");
    app.add_option("--kernel-format", format, "auto, elf, bzimage, raw16, raw64");
    app.add_option("--initrd", initrd, "initramfs");
    app.add_option("--cmdline", cmdline, "kernel command line");
    app.add_option("--vcpus", vcpus, "vCPU count");
    app.add_option("--memory-mib", memory, "guest RAM in MiB");
    app.add_option("--device", devices, "TYPE=SOCKET, a vhost-user device (repeatable)");
    app.add_option("--serial-log", serial_log, "serial console output file (default stdout)");
    app.add_option("--control-socket", control, "Unix socket for 'status'/'stop'");
    app.add_option("--cpuid-mask", cpuid_mask,
                   "features hidden from the guest, comma-separated, or kvm_pvm");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
    app.add_flag("--no-seccomp", no_seccomp, "keep capabilities and skip seccomp (debugging)");
    app.add_flag("--no-acpi", no_acpi,
                 "no ACPI tables; virtio-mmio devices go on the kernel command line");
    CLI11_PARSE(app, argc, argv);

    MachineConfig config;
    if (!config_path.empty()) {
        auto text = read_file(config_path);
        auto parsed =
            text.ok() ? decode_machine_config(*text) : Result<MachineConfig>(text.error());
        if (!parsed.ok()) {
            std::fprintf(stderr, "runvm-vmm: %s\n", parsed.error().str().c_str());
            return kExitUsage;
        }
        config = *parsed;
    }
    if (!kernel.empty())
        config.kernel = kernel;
    if (!format.empty())
        config.kernel_format = format;
    if (!initrd.empty())
        config.initrd = initrd;
    if (!cmdline.empty())
        config.cmdline = cmdline;
    if (vcpus != 0)
        config.vcpus = vcpus;
    if (memory != 0)
        config.memory_mib = memory;
    if (!serial_log.empty())
        config.serial_log = serial_log;
    if (!control.empty())
        config.control_socket = control;
    if (!log_level.empty())
        config.log_level = log_level;
    if (no_seccomp)
        config.seccomp = false;
    if (no_acpi)
        config.acpi = false;
    if (cpuid_mask == "kvm_pvm") {
        config.cpuid_mask = x86_64::kvm_pvm_cpuid_mask();
    } else if (!cpuid_mask.empty()) {
        config.cpuid_mask.clear();
        for (size_t at = 0; at <= cpuid_mask.size();) {
            const size_t comma = std::min(cpuid_mask.find(',', at), cpuid_mask.size());
            config.cpuid_mask.push_back(cpuid_mask.substr(at, comma - at));
            at = comma + 1;
        }
    } else if (config_path.empty()) {
        config.cpuid_mask = x86_64::default_cpuid_mask();
    }
    for (const auto& d : devices) {
        const auto eq = d.find('=');
        if (eq == std::string::npos) {
            std::fprintf(stderr, "runvm-vmm: --device %s: want TYPE=SOCKET\n", d.c_str());
            return kExitUsage;
        }
        config.devices.push_back({d.substr(0, eq), d.substr(eq + 1)});
    }
    if (auto v = validate_machine_config(config); !v.ok()) {
        std::fprintf(stderr, "runvm-vmm: %s\n", v.error().str().c_str());
        return kExitUsage;
    }
    LogOptions log;
    log.level = config.log_level;
    log.name = "runvm-vmm";
    if (auto r = init_logging(log); !r.ok()) {
        std::fprintf(stderr, "runvm-vmm: %s\n", r.error().str().c_str());
        return kExitUsage;
    }
    // Blocked here so every thread inherits the mask; the main loop reads them by signalfd.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto machine = Machine::create(config, start);
    if (!machine.ok()) {
        spdlog::error("{}", machine.error().str());
        return kExitVmmError;
    }
    auto status = (*machine)->run();
    if (!status.ok()) {
        spdlog::error("{}", status.error().str());
        return kExitVmmError;
    }
    return *status;
}
