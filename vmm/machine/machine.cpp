// Machine setup (claim, create, wire; errors unwind through the owners) and its run loop.
#include "vmm/machine/machine.hpp"

#include <csignal>
#include <optional>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "vmm/arch/x86_64/acpi_tables.hpp"
#include "vmm/arch/x86_64/boot_params.hpp"
#include "vmm/arch/x86_64/bzimage_loader.hpp"
#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/arch/x86_64/elf_loader.hpp"
#include "vmm/arch/x86_64/mptable.hpp"
#include "vmm/arch/x86_64/page_tables.hpp"
#include "vmm/arch/x86_64/regs.hpp"
#include "vmm/machine/exit_status.hpp"
#include "vmm/machine/hardening.hpp"
#include "vmm/memory/mapped_file.hpp"

namespace runvm::vmm {

namespace {

double ms_since(Machine::Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Machine::Clock::now() - t).count();
}

double process_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

} // namespace

// An interrupt line backed by an eventfd that KVM injects as an irqfd (an edge).
class Machine::IrqFdLine : public IrqLine {
public:
    explicit IrqFdLine(EventFd fd) : fd_(std::move(fd)) {}
    void trigger() override { (void)fd_.signal(); }
    int fd() const { return fd_.get(); }

private:
    EventFd fd_;
};

Machine::Machine(const MachineConfig& config, Clock::time_point start)
    : config_(config), start_(start) {}

Machine::~Machine() {
    stop_vcpus();
}

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config,
                                                 Clock::time_point process_start) {
    std::unique_ptr<Machine> m(new Machine(config, process_start));
    RUNVM_TRY(m->setup());
    return m;
}

Result<void> Machine::setup() {
    // Start-up cost by phase (debug level), to see where a slow start goes.
    const auto phase = [this](const char* what) {
        spdlog::debug("setup: {} done at {:.1f} ms wall, {:.1f} ms CPU", what, ms_since(start_),
                      process_cpu_ms());
    };
    phase("flags and config");
    std::optional<snapshot::Snapshot> restored;
    if (!config_.restore.empty()) {
        RUNVM_ASSIGN_OR_RETURN(restored, read_snapshot(config_));
        // The machine's shape is the snapshot's; its devices and files are this run's.
        config_.vcpus = static_cast<uint32_t>(restored->vcpus.size());
        config_.memory_mib = restored->memory_bytes >> 20;
        phase("snapshot state");
    }
    RUNVM_ASSIGN_OR_RETURN(exit_event_, EventFd::create());
    RUNVM_ASSIGN_OR_RETURN(auto kvm, kvm::Kvm::open(config_.kvm_device));
    kvm_ = std::make_unique<kvm::Kvm>(std::move(kvm));
    RUNVM_ASSIGN_OR_RETURN(auto vm, kvm::Vm::create(*kvm_));
    vm_ = std::make_unique<kvm::Vm>(std::move(vm));
    phase("KVM VM");
    RUNVM_ASSIGN_OR_RETURN(auto mem, GuestMemory::create(config_.memory_mib << 20));
    memory_ = std::make_unique<GuestMemory>(std::move(mem));
    RUNVM_TRY(vm_->map_memory(*memory_));
    phase("guest RAM");
    RUNVM_TRY(setup_devices());
    RUNVM_TRY(setup_virtio());
    phase("devices");
    if (restored) {
        RUNVM_TRY(restore(*restored));
        phase("restore: memory, devices, VM, vCPUs");
    } else {
        RUNVM_TRY(load_kernel());
        phase("kernel, initrd, tables, vCPUs");
    }
    // Only a snapshot needs the list (and seccomp refuses the ioctl later): a host that does
    // not give it still runs VMs, and a snapshot there says why it cannot.
    if (auto msrs = kvm_->msr_index_list(); msrs.ok()) {
        msr_indices_ = std::move(*msrs);
    } else {
        spdlog::warn("no snapshots for this VM: {}", msrs.error().str());
    }
    RUNVM_TRY(setup_vcpus());
    if (!config_.control_socket.empty()) {
        RUNVM_ASSIGN_OR_RETURN(control_listen_, listen_unix(config_.control_socket, 4));
    }
    spdlog::info("vm ready: {} vCPU, {} MiB, {} virtio device(s), setup {:.1f} ms wall "
                 "{:.1f} ms CPU",
                 config_.vcpus, config_.memory_mib, transports_.size(), ms_since(start_),
                 process_cpu_ms());
    return Ok();
}

Result<void> Machine::setup_devices() {
    if (config_.serial_log.empty()) {
        serial_out_.reset(::dup(STDOUT_FILENO));
    } else {
        serial_out_.reset(
            ::open(config_.serial_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    }
    if (!serial_out_) {
        return Err(Error::from_errno("open serial log " + config_.serial_log));
    }
    RUNVM_ASSIGN_OR_RETURN(auto serial_fd, EventFd::create());
    RUNVM_TRY(vm_->register_irqfd(serial_fd.get(), layout::kSerialIrq));
    serial_irq_ = std::make_unique<IrqFdLine>(std::move(serial_fd));
    serial_ = std::make_unique<Serial8250>(serial_out_.get(), serial_irq_.get());
    RUNVM_TRY(pio_.add(layout::kSerialPort, 8, serial_.get()));

    i8042_ = std::make_unique<I8042>([this] {
        spdlog::info("guest reset through the i8042");
        request_exit(kExitGuestShutdown);
    });
    RUNVM_TRY(pio_.add(layout::kI8042Port, 5, i8042_.get()));

    boot_timer_ = std::make_unique<BootTimer>(start_, [](BootTimer::Clock::duration d) {
        spdlog::info("guest boot time: {:.1f} ms (boot-timer write at /init), {:.1f} ms CPU",
                     std::chrono::duration<double, std::milli>(d).count(), process_cpu_ms());
    });
    RUNVM_TRY(pio_.add(layout::kBootTimerPort, 1, boot_timer_.get()));
    RUNVM_TRY(mmio_.add(layout::kBootTimerMmio, 0x1000, boot_timer_.get()));

    acpi_sleep_ = std::make_unique<AcpiSleep>(x86_64::kAcpiS5SleepType, [this] {
        spdlog::info("guest powered off (ACPI S5)");
        request_exit(kExitGuestShutdown);
    });
    return pio_.add(layout::kAcpiSleepPort, 1, acpi_sleep_.get());
}

Result<void> Machine::setup_virtio() {
    for (size_t i = 0; i < config_.devices.size(); ++i) {
        const auto& dev = config_.devices[i];
        const uint64_t base = layout::kVirtioMmioBase + i * layout::kVirtioMmioSize;
        const auto gsi = static_cast<uint32_t>(layout::kVirtioIrqBase + i);
        RUNVM_ASSIGN_OR_RETURN(auto device,
                               vhost_user::Device::connect(dev.type, dev.socket, *memory_, 5000));
        for (uint16_t q = 0; q < device->backend_queues(); ++q) {
            RUNVM_TRY(vm_->register_ioeventfd(device->kick_fd(q),
                                              base + virtio_mmio::reg::kQueueNotify, 4, q, false));
        }
        RUNVM_TRY(vm_->register_irqfd(device->call_fd(), gsi));
        // Configuration-change interrupts go out on the same line through the call fd.
        auto transport = std::make_unique<virtio_mmio::Transport>(*device, nullptr);
        RUNVM_TRY(mmio_.add(base, layout::kVirtioMmioSize, transport.get()));
        acpi_config_.virtio_mmio.push_back({base, gsi});
        if (virtio_devices_on_cmdline(config_)) {
            extra_cmdline_ += " virtio_mmio.device=4K@" + hex(base) + ":" + std::to_string(gsi);
        }
        spdlog::info("virtio-mmio {} at {} irq {} <- vhost-user {}", dev.type, hex(base), gsi,
                     dev.socket);
        vhost_devices_.push_back(std::move(device));
        transports_.push_back(std::move(transport));
    }
    return Ok();
}

Result<void> Machine::load_kernel() {
    using namespace x86_64;
    RUNVM_ASSIGN_OR_RETURN(const auto kernel_file, MappedFile::open(config_.kernel));
    const auto image = kernel_file.bytes();
    KernelFormat format;
    if (config_.kernel_format == "auto") {
        RUNVM_ASSIGN_OR_RETURN(format, detect_kernel_format(image));
    } else {
        format = config_.kernel_format == "elf"       ? KernelFormat::elf
                 : config_.kernel_format == "bzimage" ? KernelFormat::bzimage
                 : config_.kernel_format == "raw16"   ? KernelFormat::raw16
                                                      : KernelFormat::raw64;
    }
    Result<LoadedKernel> loaded = Err(Error::msg("unreachable"));
    switch (format) {
    case KernelFormat::elf:
        loaded = load_elf(*memory_, image);
        break;
    case KernelFormat::bzimage:
        loaded = load_bzimage(*memory_, image);
        break;
    case KernelFormat::raw16:
        loaded = load_raw(*memory_, image, EntryMode::real16);
        break;
    case KernelFormat::raw64:
        loaded = load_raw(*memory_, image, EntryMode::long64);
        break;
    }
    if (!loaded.ok()) {
        return Err(std::move(loaded).error().context("load kernel " + config_.kernel));
    }
    const LoadedKernel& k = *loaded;
    RUNVM_TRY(write_gdt_and_idt(*memory_));
    RUNVM_ASSIGN_OR_RETURN(const uint64_t cr3, write_identity_page_tables(*memory_));
    // The MP table serves kernels without ACPI (or with acpi=off); ACPI's MADT wins where
    // both exist, and only the DSDT announces virtio-mmio devices to kernels that lack
    // CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (Debian's cloud kernel).
    RUNVM_TRY(write_mptable(*memory_, config_.vcpus));
    uint64_t rsdp = 0;
    if (config_.acpi) {
        acpi_config_.vcpus = config_.vcpus;
        RUNVM_ASSIGN_OR_RETURN(rsdp, write_acpi_tables(*memory_, acpi_config_));
    }
    if (format == KernelFormat::elf || format == KernelFormat::bzimage) {
        std::optional<MappedFile> initrd;
        if (!config_.initrd.empty()) {
            RUNVM_ASSIGN_OR_RETURN(initrd, MappedFile::open(config_.initrd));
        }
        RUNVM_TRY(write_boot_data(*memory_, k, config_.cmdline + extra_cmdline_,
                                  initrd ? initrd->bytes() : std::span<const uint8_t>(), rsdp));
    }

    RUNVM_ASSIGN_OR_RETURN(const auto supported, kvm_->supported_cpuid());
    x86_64::CpuidHostCaps host_caps;
    RUNVM_ASSIGN_OR_RETURN(const int tsc_deadline,
                           kvm_->check_extension(KVM_CAP_TSC_DEADLINE_TIMER));
    host_caps.tsc_deadline_timer = tsc_deadline > 0;
    for (uint32_t id = 0; id < config_.vcpus; ++id) {
        RUNVM_ASSIGN_OR_RETURN(auto vcpu, kvm::Vcpu::create(*kvm_, *vm_, id));
        RUNVM_TRY(vcpu.set_cpuid(
            guest_cpuid(supported, id, config_.vcpus, config_.cpuid_mask, host_caps)));
        RUNVM_TRY(vcpu.set_msrs(boot_msrs()));
        RUNVM_ASSIGN_OR_RETURN(const auto lapic, vcpu.lapic());
        RUNVM_TRY(vcpu.set_lapic(boot_lapic(lapic)));
        // Application processors wait for INIT/SIPI in the in-kernel LAPIC; only the
        // bootstrap processor starts at the kernel entry.
        if (id == 0) {
            RUNVM_ASSIGN_OR_RETURN(const auto sregs, vcpu.sregs());
            RUNVM_TRY(vcpu.set_sregs(boot_sregs(sregs, k.mode, k.entry, cr3)));
            RUNVM_TRY(vcpu.set_regs(boot_regs(k.mode, k.entry)));
            RUNVM_TRY(vcpu.set_fpu(boot_fpu()));
        }
        vcpus_.push_back(std::make_unique<kvm::Vcpu>(std::move(vcpu)));
    }
    spdlog::info("kernel {} loaded at {}, entry {} ({})", config_.kernel, hex(k.load_addr),
                 hex(k.entry), k.mode == EntryMode::real16 ? "real mode" : "64-bit");
    return Ok();
}

Result<void> Machine::setup_vcpus() {
    RUNVM_TRY(install_kick_handler());
    // vCPU threads need little stack. glibc's default (8 MiB, from RLIMIT_STACK) spans a
    // 2 MiB-aligned range, which a host with anonymous THP "always" backs with a huge page
    // at the first touch: 2 MiB of RSS per vCPU for nothing. 1 MiB cannot hold one.
    constexpr size_t kVcpuStackBytes = 1 << 20;
    pthread_attr_t attr;
    if (const int err = ::pthread_attr_init(&attr); err != 0) {
        return Err(Error::with_errno(err, "pthread_attr_init"));
    }
    int err = ::pthread_attr_setstacksize(&attr, kVcpuStackBytes);
    if (err == 0) {
        err = ::pthread_setattr_default_np(&attr);
    }
    ::pthread_attr_destroy(&attr);
    if (err != 0) {
        return Err(Error::with_errno(err, "pthread_setattr_default_np stack 1 MiB"));
    }
    for (auto& vcpu : vcpus_) {
        VcpuExitSink sink;
        sink.request_exit = [this](int status) { request_exit(status); };
        sink.on_thread_start = [this](uint32_t id) { return vcpu_thread_start(id); };
        threads_.push_back(std::make_unique<VcpuThread>(*vcpu, pio_, mmio_, std::move(sink)));
    }
    return Ok();
}

Result<void> Machine::vcpu_thread_start(uint32_t id) {
    if (config_.seccomp) {
        RUNVM_TRY(apply_seccomp(ThreadRole::vcpu));
    }
    if (id == 0 && !first_run_logged_.exchange(true)) {
        spdlog::info("first KVM_RUN: {:.1f} ms wall, {:.1f} ms CPU after process start",
                     ms_since(start_), process_cpu_ms());
    }
    return Ok();
}

void Machine::request_exit(int status) {
    int expected = -1;
    if (exit_status_.compare_exchange_strong(expected, status)) {
        (void)exit_event_.signal();
    }
}

void Machine::stop_vcpus() {
    for (auto& t : threads_) {
        t->kick_stop();
    }
    for (auto& t : threads_) {
        if (!t->join(2000)) {
            spdlog::critical("a vCPU did not stop within 2 s; exiting");
            std::_Exit(kExitVmmError);
        }
    }
    threads_.clear();
}

Result<void> Machine::handle_control_client(int fd) {
    char buf[4096] = {};
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    if (n <= 0) {
        return Ok();
    }
    std::string cmd(buf, static_cast<size_t>(n));
    while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == '\r' || cmd.back() == ' ')) {
        cmd.pop_back();
    }
    std::string reply;
    const bool and_stop = cmd.starts_with("snapshot-and-stop ");
    if (and_stop || cmd.starts_with("snapshot ")) {
        const std::string dir = cmd.substr(cmd.find(' ') + 1);
        auto bytes = snapshot(dir, and_stop);
        reply = bytes.ok() ? "ok " + std::to_string(*bytes) + "\n"
                           : "error " + bytes.error().str() + "\n";
    } else if (cmd.starts_with("stop")) {
        reply = "ok\n";
        request_exit(kExitSignalBase + SIGTERM);
    } else if (cmd.starts_with("status")) {
        reply = "running\n";
    } else {
        reply = "error: unknown command (want status, stop, snapshot DIR or snapshot-and-stop "
                "DIR)\n";
    }
    return write_all(fd, reply.data(), reply.size(), "control socket");
}

Result<int> Machine::run() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    UniqueFd sigfd(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) {
        return Err(Error::from_errno("signalfd SIGTERM/SIGINT"));
    }
    // Capabilities are per thread: drop them before the vCPU threads inherit them.
    if (config_.seccomp) {
        RUNVM_TRY(drop_capabilities());
    }
    for (auto& t : threads_) {
        RUNVM_TRY(t->start());
    }
    if (config_.seccomp) {
        RUNVM_TRY(apply_seccomp(ThreadRole::main));
    }
    for (;;) {
        pollfd fds[3] = {{sigfd.get(), POLLIN, 0},
                         {exit_event_.get(), POLLIN, 0},
                         {control_listen_.get(), POLLIN, 0}};
        const int n = ::poll(fds, control_listen_ ? 3 : 2, -1);
        if (n < 0 && errno != EINTR) {
            return Err(Error::from_errno("poll main loop"));
        }
        if ((fds[0].revents & POLLIN) != 0) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                spdlog::info("signal {}: stopping the VM", si.ssi_signo);
                request_exit(kExitSignalBase + static_cast<int>(si.ssi_signo));
            }
        }
        if (control_listen_ && (fds[2].revents & POLLIN) != 0) {
            auto client = accept_unix(control_listen_.get(), false, "control socket");
            if (client.ok() && client->valid()) {
                // One short request per connection; a slow client cannot stall the VM long.
                pollfd p{client->get(), POLLIN, 0};
                if (::poll(&p, 1, 1000) == 1) {
                    (void)handle_control_client(client->get());
                }
            }
        }
        if (exit_status_.load() >= 0) {
            break;
        }
    }
    stop_vcpus();
    spdlog::info("vm stopped after {:.1f} ms, exit status {}", ms_since(start_),
                 exit_status_.load());
    return exit_status_.load();
}

} // namespace runvm::vmm
