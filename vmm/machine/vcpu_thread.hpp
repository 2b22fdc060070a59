// VcpuThread: one thread per vCPU running KVM_RUN and dispatching exits to the buses.
// Stopping sets kvm_run.immediate_exit and sends kKickSignal, so a vCPU inside KVM_RUN
// or about to enter it leaves at once; the destructor waits with a timeout.
#pragma once

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>

#include "base/owned_thread.hpp"
#include "vmm/devices/bus.hpp"
#include "vmm/kvm/vcpu.hpp"

namespace runvm::vmm {

// SIGUSR1 is free in runvm-vmm; its handler does nothing, it only interrupts KVM_RUN.
inline constexpr int kKickSignal = SIGUSR1;
Result<void> install_kick_handler();

struct VcpuExitSink {
    // Called once from a vCPU thread when the VM must end with `status`.
    std::function<void(int status)> request_exit;
    // Called once per vCPU thread before its first KVM_RUN (seccomp, timing).
    std::function<Result<void>(uint32_t vcpu_id)> on_thread_start;
};

class VcpuThread {
public:
    VcpuThread(kvm::Vcpu& vcpu, Bus& pio, Bus& mmio, VcpuExitSink sink)
        : vcpu_(vcpu), pio_(pio), mmio_(mmio), sink_(std::move(sink)) {}
    ~VcpuThread();
    VcpuThread(const VcpuThread&) = delete;
    VcpuThread& operator=(const VcpuThread&) = delete;

    Result<void> start();
    // Asks the thread to leave KVM_RUN and end; does not wait.
    void kick_stop();
    // Waits up to timeout_ms for the thread to end; false when it did not.
    bool join(int timeout_ms);

    // For a snapshot: the thread leaves KVM_RUN, completes a pending PIO/MMIO exit (so the
    // saved state is after the instruction, Vcpu::complete_pending_io) and parks until
    // resume(). Returns once it is parked; an error when it ended or did not park in time.
    Result<void> pause(int timeout_ms);
    void resume();

private:
    void loop();
    // In the thread: complete the pending exit, park until resumed or stopped.
    void park();
    // Returns false when the VM must stop.
    bool handle_exit();
    // Logs what KVM could not run: suberror, RIP and, when KVM gives them, the bytes of
    // the instruction its emulator failed on.
    void report_internal_error(const kvm_run& run) const;

    kvm::Vcpu& vcpu_;
    Bus& pio_;
    Bus& mmio_;
    VcpuExitSink sink_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> pause_requested_{false};
    std::mutex park_mutex_;
    std::condition_variable park_cv_;
    bool parked_ = false; // under park_mutex_
    bool ended_ = false;  // under park_mutex_
    std::atomic<pthread_t> handle_{};
    OwnedThread thread_; // its wake repeats the kick every 50 ms while a join waits
};

} // namespace runvm::vmm
