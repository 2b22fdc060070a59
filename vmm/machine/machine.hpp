// Machine: one VM — KVM objects, guest memory, legacy devices, virtio-mmio devices and
// the vCPU threads — built from a MachineConfig and run until the guest or a signal ends
// it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/event_fd.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/arch/x86_64/acpi_tables.hpp"
#include "vmm/devices/acpi_sleep.hpp"
#include "vmm/devices/boot_timer.hpp"
#include "vmm/devices/bus.hpp"
#include "vmm/devices/i8042.hpp"
#include "vmm/devices/serial_8250.hpp"
#include "vmm/kvm/kvm.hpp"
#include "vmm/kvm/vcpu.hpp"
#include "vmm/kvm/vm.hpp"
#include "vmm/machine/config.hpp"
#include "vmm/machine/vcpu_thread.hpp"
#include "vmm/memory/guest_memory.hpp"
#include "vmm/snapshot/snapshot_file.hpp"
#include "vmm/vhost_user/device.hpp"
#include "vmm/virtio_mmio/transport.hpp"

namespace runvm::vmm {

class Machine {
public:
    using Clock = std::chrono::steady_clock;

    // `process_start`: when main() began, for the boot-time log lines.
    static Result<std::unique_ptr<Machine>> create(const MachineConfig& config,
                                                   Clock::time_point process_start);
    ~Machine();

    // Starts the vCPUs and waits for the guest to end or for SIGTERM/SIGINT (blocked by
    // the caller before any thread exists). Returns the exit status (exit_status.hpp).
    Result<int> run();

private:
    class IrqFdLine;
    explicit Machine(const MachineConfig& config, Clock::time_point start);
    Result<void> setup();
    Result<void> setup_devices();
    Result<void> setup_virtio();
    Result<void> load_kernel();
    Result<void> setup_vcpus();
    // vmm/machine/machine_snapshot.cpp: the control socket's `snapshot DIR` and --restore.
    // Pauses every vCPU, writes DIR/memory then DIR/state; resumes unless `then_stop`.
    // Stops the broker's rings for the save and, unless `then_stop`, starts them again.
    // Returns the bytes written.
    Result<uint64_t> snapshot(const std::string& dir, bool then_stop);
    // `rings`: per vhost-user device, each queue's position in the broker (stop_rings).
    Result<uint64_t> save_snapshot(const std::string& dir,
                                   const std::vector<std::vector<uint16_t>>& rings);
    static Result<snapshot::Snapshot> read_snapshot(const MachineConfig& config);
    // In place of load_kernel: the memory file, devices, VM and vCPUs from the snapshot.
    Result<void> restore(const snapshot::Snapshot& snap);
    Result<void> vcpu_thread_start(uint32_t id);
    void request_exit(int status);
    void stop_vcpus();
    Result<void> handle_control_client(int fd);

    MachineConfig config_;
    Clock::time_point start_;
    std::unique_ptr<kvm::Kvm> kvm_;
    std::unique_ptr<kvm::Vm> vm_;
    std::unique_ptr<GuestMemory> memory_;
    std::vector<std::unique_ptr<kvm::Vcpu>> vcpus_;
    std::vector<uint32_t> msr_indices_; // what a snapshot saves; read before seccomp
    std::vector<std::unique_ptr<VcpuThread>> threads_;
    Bus pio_;
    Bus mmio_;
    UniqueFd serial_out_;
    std::unique_ptr<IrqLine> serial_irq_;
    std::unique_ptr<Serial8250> serial_;
    std::unique_ptr<I8042> i8042_;
    std::unique_ptr<BootTimer> boot_timer_;
    std::unique_ptr<AcpiSleep> acpi_sleep_;
    x86_64::AcpiConfig acpi_config_;
    std::vector<std::unique_ptr<vhost_user::Device>> vhost_devices_;
    std::vector<std::unique_ptr<virtio_mmio::Transport>> transports_;
    std::string extra_cmdline_;
    UniqueFd control_listen_;
    EventFd exit_event_;
    std::atomic<int> exit_status_{-1};
    std::atomic<bool> first_run_logged_{false};
};

} // namespace runvm::vmm
