// BootTimer: the guest writes the magic value 123 once (at /init) and the VMM logs how
// long the boot took, as Firecracker's boot timer does. It answers on port 0x440 and on
// the first page of the MMIO window (reachable from userspace with `devmem`).
#pragma once

#include <chrono>
#include <functional>

#include "vmm/devices/bus.hpp"
#include "vmm/snapshot/device_state.hpp"

namespace runvm::vmm {

class BootTimer : public BusDevice {
public:
    static constexpr uint8_t kMagic = 123;
    using Clock = std::chrono::steady_clock;

    // on_boot gets the time since `start` at the first magic write.
    BootTimer(Clock::time_point start, std::function<void(Clock::duration)> on_boot)
        : start_(start), on_boot_(std::move(on_boot)) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    bool fired() const { return fired_; }
    snapshot::BootTimerState save_state() const { return {.fired = fired_}; }
    void restore_state(const snapshot::BootTimerState& state) { fired_ = state.fired; }

private:
    Clock::time_point start_;
    std::function<void(Clock::duration)> on_boot_;
    bool fired_ = false;
};

} // namespace runvm::vmm
