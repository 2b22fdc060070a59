// vCPU run loop and exit dispatch.
#include "vmm/machine/vcpu_thread.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "vmm/machine/exit_status.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm {

namespace {
void on_kick(int) {}
} // namespace

Result<void> install_kick_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_kick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: KVM_RUN must return EINTR
    if (::sigaction(kKickSignal, &sa, nullptr) != 0) {
        return Err(Error::from_errno("sigaction SIGUSR1 (vCPU kick)"));
    }
    return Ok();
}

VcpuThread::~VcpuThread() {
    if (!thread_.joinable()) {
        return;
    }
    kick_stop();
    if (!join(2000)) {
        // A vCPU that ignores the kick for 2 s cannot be joined safely; the process ends.
        spdlog::critical("vcpu {}: did not stop within 2 s of the kick; exiting", vcpu_.id());
        std::_Exit(kExitVmmError);
    }
}

Result<void> VcpuThread::start() {
    // The first kick may land before the thread entered KVM_RUN; a join repeats it.
    RUNVM_ASSIGN_OR_RETURN(
        thread_, OwnedThread::start("vcpu " + std::to_string(vcpu_.id()), [this] { loop(); },
                                    {.wake =
                                         [this] {
                                             if (const pthread_t h = handle_.load()) {
                                                 ::pthread_kill(h, kKickSignal);
                                             }
                                         },
                                     .stop_timeout = std::chrono::milliseconds(2000)}));
    handle_.store(thread_.native_handle());
    return Ok();
}

void VcpuThread::kick_stop() {
    stop_.store(true);
    // immediate_exit covers the window between the stop_ check and the KVM_RUN ioctl.
    __atomic_store_n(&vcpu_.run_page()->immediate_exit, 1, __ATOMIC_SEQ_CST);
    thread_.request_stop(); // the kick
    {
        std::lock_guard lock(park_mutex_); // a parked thread sees stop_ when it wakes
    }
    park_cv_.notify_all();
}

Result<void> VcpuThread::pause(int timeout_ms) {
    pause_requested_.store(true);
    __atomic_store_n(&vcpu_.run_page()->immediate_exit, 1, __ATOMIC_SEQ_CST);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::unique_lock lock(park_mutex_);
    while (!parked_ && !ended_) {
        // Repeated: a kick that lands before the thread enters KVM_RUN is covered by
        // immediate_exit, one that lands inside a device handler is not needed.
        if (const pthread_t h = handle_.load()) {
            ::pthread_kill(h, kKickSignal);
        }
        if (park_cv_.wait_for(lock, std::chrono::milliseconds(50)) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline) {
            break;
        }
    }
    if (parked_) {
        return Ok();
    }
    return Err(
        Error::msg("vcpu " + std::to_string(vcpu_.id()) +
                   (ended_ ? ": not running"
                           : ": did not pause within " + std::to_string(timeout_ms) + " ms")));
}

void VcpuThread::resume() {
    {
        std::lock_guard lock(park_mutex_);
        pause_requested_.store(false);
    }
    park_cv_.notify_all();
}

void VcpuThread::park() {
    if (auto r = vcpu_.complete_pending_io(); !r.ok()) {
        spdlog::error("{}", r.error().str());
        sink_.request_exit(kExitVmmError);
        stop_.store(true);
        return;
    }
    std::unique_lock lock(park_mutex_);
    parked_ = true;
    park_cv_.notify_all();
    park_cv_.wait(lock, [this] { return !pause_requested_.load() || stop_.load(); });
    parked_ = false;
    // pause() may have set immediate_exit after complete_pending_io cleared it; a stop sets
    // stop_ before immediate_exit, so the loop still sees a stop that races with this.
    if (!stop_.load()) {
        __atomic_store_n(&vcpu_.run_page()->immediate_exit, 0, __ATOMIC_SEQ_CST);
    }
}

bool VcpuThread::join(int timeout_ms) {
    return thread_.join_for(std::chrono::milliseconds(timeout_ms));
}

void VcpuThread::loop() {
    // A pause() waiting on this thread learns that it ended, however it ends.
    struct MarkEnded {
        VcpuThread* t;
        ~MarkEnded() {
            {
                std::lock_guard lock(t->park_mutex_);
                t->ended_ = true;
            }
            t->park_cv_.notify_all();
        }
    } mark_ended{this};
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, kKickSignal);
    ::pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
    if (sink_.on_thread_start) {
        if (auto r = sink_.on_thread_start(vcpu_.id()); !r.ok()) {
            spdlog::error("vcpu {}: {}", vcpu_.id(), r.error().str());
            sink_.request_exit(kExitVmmError);
            return;
        }
    }
    while (!stop_.load()) {
        if (pause_requested_.load()) {
            park();
            continue;
        }
        if (auto r = vcpu_.run(); !r.ok()) {
            spdlog::error("{}", r.error().str());
            sink_.request_exit(kExitVmmError);
            break;
        }
        if (!handle_exit()) {
            break;
        }
    }
}

bool VcpuThread::handle_exit() {
    kvm_run* run = vcpu_.run_page();
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        // KVM fills the data area; its bounds still come from the shared page, so check.
        const uint64_t len = uint64_t{run->io.size} * run->io.count;
        auto* base = reinterpret_cast<uint8_t*>(run);
        if (run->io.data_offset < sizeof(kvm_run) || run->io.data_offset > vcpu_.run_size() ||
            len > vcpu_.run_size() - run->io.data_offset ||
            (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)) {
            spdlog::error("vcpu {}: KVM_EXIT_IO data [{}, +{}) outside kvm_run", vcpu_.id(),
                          run->io.data_offset, len);
            sink_.request_exit(kExitVmmError);
            return false;
        }
        for (uint32_t i = 0; i < run->io.count; ++i) {
            std::span<uint8_t> data(base + run->io.data_offset + i * run->io.size, run->io.size);
            if (run->io.direction == KVM_EXIT_IO_OUT) {
                pio_.write(run->io.port, data);
            } else {
                pio_.read(run->io.port, data);
            }
        }
        return true;
    }
    case KVM_EXIT_MMIO: {
        const uint32_t len = run->mmio.len;
        if (len == 0 || len > 8) {
            sink_.request_exit(kExitVmmError);
            return false;
        }
        std::span<uint8_t> data(run->mmio.data, len);
        if (run->mmio.is_write != 0) {
            mmio_.write(run->mmio.phys_addr, data);
        } else {
            mmio_.read(run->mmio.phys_addr, data);
        }
        return true;
    }
    case KVM_EXIT_INTR:
        return true; // a kick: the loop checks stop_
    case KVM_EXIT_HLT:
        // Only without an in-kernel LAPIC (never here): treat as the guest's end.
        spdlog::info("vcpu {}: guest halted", vcpu_.id());
        sink_.request_exit(kExitGuestShutdown);
        return false;
    case KVM_EXIT_SHUTDOWN:
        spdlog::info("vcpu {}: guest triple fault (KVM_EXIT_SHUTDOWN)", vcpu_.id());
        sink_.request_exit(kExitTripleFault);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        spdlog::info("vcpu {}: guest system event {}", vcpu_.id(), run->system_event.type);
        sink_.request_exit(kExitGuestShutdown);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        spdlog::error("vcpu {}: KVM_EXIT_FAIL_ENTRY reason {:#x}", vcpu_.id(),
                      run->fail_entry.hardware_entry_failure_reason);
        sink_.request_exit(kExitGuestFault);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        report_internal_error(*run);
        sink_.request_exit(kExitGuestFault);
        return false;
    default:
        spdlog::error("vcpu {}: unhandled exit reason {}", vcpu_.id(), run->exit_reason);
        sink_.request_exit(kExitGuestFault);
        return false;
    }
}

void VcpuThread::report_internal_error(const kvm_run& run) const {
    std::string where = "rip unknown";
    if (auto regs = vcpu_.regs(); regs.ok()) {
        where = fmt::format("rip {:#x}", regs->rip);
    }
    std::string insn;
    if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
        (run.emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        const size_t n = std::min<size_t>(run.emulation_failure.insn_size,
                                          sizeof(run.emulation_failure.insn_bytes));
        insn = ", instruction bytes";
        for (size_t i = 0; i < n; ++i) {
            insn += fmt::format(" {:02x}", run.emulation_failure.insn_bytes[i]);
        }
    }
    spdlog::error("vcpu {}: KVM_EXIT_INTERNAL_ERROR suberror {} at {}{}", vcpu_.id(),
                  run.internal.suberror, where, insn);
}

} // namespace runvm::vmm
