// Machine snapshots: the control socket's `snapshot DIR` / `snapshot-and-stop DIR` and
// --restore DIR (docs/vmm.md, "Snapshots"). DIR holds `state` (snapshot_file) and `memory`
// (memory_file), both 0600.
#include <chrono>
#include <csignal>
#include <utility>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/scope_guard.hpp"
#include "vmm/arch/x86_64/mptable.hpp"
#include "vmm/machine/exit_status.hpp"
#include "vmm/machine/machine.hpp"
#include "vmm/memory/mapped_file.hpp"
#include "vmm/snapshot/memory_file.hpp"
#include "vmm/snapshot/vcpu_state.hpp"
#include "vmm/snapshot/vm_state.hpp"

namespace runvm::vmm {

namespace {

// How long a vCPU may take to leave KVM_RUN and finish its exit before a snapshot gives up.
constexpr int kPauseTimeoutMs = 2000;

} // namespace

Result<uint64_t> Machine::snapshot(const std::string& dir, bool then_stop) {
    if (dir.empty()) {
        return Err(Error::msg("snapshot: no directory"));
    }
    if (msr_indices_.empty()) {
        return Err(Error::msg("snapshot: KVM gave no MSR index list at start (see the log)"));
    }
    const auto started = Clock::now();
    // Every thread, also one whose pause failed: resume() only clears its request.
    ScopeGuard resume([this] {
        for (auto& t : threads_) {
            t->resume();
        }
    });
    for (auto& t : threads_) {
        if (auto r = t->pause(kPauseTimeoutMs); !r.ok()) {
            return Err(std::move(r).error().context("snapshot"));
        }
    }
    // The broker's rings stop before the memory is saved: it writes used rings and buffers
    // until then. A VM that runs on gets them back where they stopped (before its vCPUs).
    std::vector<std::vector<uint16_t>> rings(vhost_devices_.size());
    ScopeGuard resume_rings([this, &rings] {
        for (size_t i = 0; i < rings.size(); ++i) {
            if (auto r = vhost_devices_[i]->resume_rings(rings[i]); !r.ok()) {
                spdlog::error("snapshot: device {} ({}): {}", i, config_.devices[i].type,
                              r.error().str());
            }
        }
    });
    for (size_t i = 0; i < vhost_devices_.size(); ++i) {
        auto stopped = vhost_devices_[i]->stop_rings();
        if (!stopped.ok()) {
            return Err(std::move(stopped).error().context("snapshot: device " + std::to_string(i) +
                                                          " (" + config_.devices[i].type + ")"));
        }
        rings[i] = std::move(*stopped);
    }
    auto bytes = save_snapshot(dir, rings);
    if (!bytes.ok()) {
        return Err(std::move(bytes).error().context("snapshot " + dir));
    }
    spdlog::info("snapshot {}: {} bytes in {:.1f} ms{}", dir, *bytes,
                 std::chrono::duration<double, std::milli>(Clock::now() - started).count(),
                 then_stop ? ", stopping" : "");
    if (then_stop) {
        // The vCPUs stay parked until the stop ends them: nothing runs after the snapshot.
        resume_rings.dismiss();
        resume.dismiss();
        request_exit(kExitSignalBase + SIGTERM);
    }
    return *bytes;
}

Result<uint64_t> Machine::save_snapshot(const std::string& dir,
                                        const std::vector<std::vector<uint16_t>>& rings) {
    snapshot::Snapshot s;
    s.memory_bytes = memory_->ram_bytes();
    RUNVM_ASSIGN_OR_RETURN(s.vm, snapshot::save_vm(*vm_));
    for (const auto& vcpu : vcpus_) {
        RUNVM_ASSIGN_OR_RETURN(auto v, snapshot::save_vcpu(*vcpu, msr_indices_));
        s.vcpus.push_back(std::move(v));
    }
    s.devices.serial = serial_->save_state();
    s.devices.i8042 = i8042_->save_state();
    s.devices.boot_timer = boot_timer_->save_state();
    for (size_t i = 0; i < transports_.size(); ++i) {
        snapshot::TransportState t = transports_[i]->save_state();
        for (size_t q = 0; q < t.queues.size() && q < rings[i].size(); ++q) {
            t.queues[q].next_avail = rings[i][q];
        }
        s.devices.transports.push_back(std::move(t));
    }
    const std::vector<uint8_t> state = snapshot::encode_snapshot(s);
    // Memory first, state last: a state file is never older than the memory beside it.
    RUNVM_ASSIGN_OR_RETURN(const uint64_t memory_bytes,
                           snapshot::write_memory_file(*memory_, dir + "/memory"));
    RUNVM_TRY(snapshot::write_private_file_atomic(dir + "/state", state));
    return memory_bytes + state.size();
}

Result<snapshot::Snapshot> Machine::read_snapshot(const MachineConfig& config) {
    const std::string& dir = config.restore;
    RUNVM_ASSIGN_OR_RETURN(const MappedFile file,
                           config.restore_state_fd >= 0
                               ? MappedFile::map(config.restore_state_fd, dir + "/state")
                               : MappedFile::open(dir + "/state"));
    auto snap = snapshot::decode_snapshot(file.bytes());
    if (!snap.ok()) {
        return Err(std::move(snap).error().context(dir + "/state"));
    }
    if (snap->vcpus.size() > x86_64::kMaxVcpus) {
        return Err(Error::msg(dir + "/state: " + std::to_string(snap->vcpus.size()) +
                              " vCPUs (runvm-vmm runs at most " +
                              std::to_string(x86_64::kMaxVcpus) + ")"));
    }
    return snap;
}

Result<void> Machine::restore(const snapshot::Snapshot& snap) {
    const std::string memory_file = config_.restore + "/memory";
    const auto copy_start = std::chrono::steady_clock::now();
    RUNVM_TRY(config_.restore_memory_fd >= 0
                  ? snapshot::read_memory_file(config_.restore_memory_fd, memory_file, *memory_)
                  : snapshot::read_memory_file(memory_file, *memory_));
    spdlog::debug(
        "restore: guest memory copied in {:.1f} ms",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - copy_start)
            .count());
    const auto& transports = snap.devices.transports;
    if (transports.size() != transports_.size()) {
        return Err(Error::msg("restore: the snapshot has " + std::to_string(transports.size()) +
                              " virtio-mmio device(s), this VM " +
                              std::to_string(transports_.size())));
    }
    for (size_t i = 0; i < transports.size(); ++i) {
        const snapshot::TransportState& t = transports[i];
        RUNVM_TRY(transports_[i]->restore_state(t));
        if (!t.activated) {
            continue; // the driver has not started the device: it will, as at a cold boot
        }
        // This run's broker takes the rings over where the old one stopped, in this run's
        // memory; the guest's driver sees the device it left.
        std::vector<uint16_t> next_avail;
        for (const snapshot::QueueState& q : t.queues) {
            next_avail.push_back(q.next_avail);
        }
        auto started =
            vhost_devices_[i]->activate_at(t.driver_features, transports_[i]->queues(), next_avail);
        if (!started.ok()) {
            return Err(std::move(started).error().context("restore: device " + std::to_string(i) +
                                                          " (" + config_.devices[i].type + ")"));
        }
    }
    serial_->restore_state(snap.devices.serial);
    i8042_->restore_state(snap.devices.i8042);
    boot_timer_->restore_state(snap.devices.boot_timer);
    for (uint32_t id = 0; id < snap.vcpus.size(); ++id) {
        RUNVM_ASSIGN_OR_RETURN(auto vcpu, kvm::Vcpu::create(*kvm_, *vm_, id));
        vcpus_.push_back(std::make_unique<kvm::Vcpu>(std::move(vcpu)));
    }
    // The VM's chips and clock before the vCPUs, whose LAPICs and events refer to them.
    RUNVM_TRY(snapshot::restore_vm(*vm_, snap.vm));
    for (size_t i = 0; i < vcpus_.size(); ++i) {
        RUNVM_TRY(snapshot::restore_vcpu(*vcpus_[i], snap.vcpus[i]));
    }
    // After the chips: an interrupt injected before their state was set would be lost.
    for (size_t i = 0; i < vhost_devices_.size(); ++i) {
        RUNVM_ASSIGN_OR_RETURN(const bool fired, vhost_devices_[i]->interrupt_if_used());
        if (fired) {
            spdlog::debug("restore: device {} ({}): used-buffer interrupt", i,
                          config_.devices[i].type);
        }
    }
    spdlog::info("restored from {}: {} vCPU, {} MiB", config_.restore, vcpus_.size(),
                 snap.memory_bytes >> 20);
    // The handed files are read: the template is not this VM's to keep open.
    for (int* fd : {&config_.restore_state_fd, &config_.restore_memory_fd}) {
        if (*fd >= 0) {
            ::close(std::exchange(*fd, -1));
        }
    }
    return Ok();
}

} // namespace runvm::vmm
