// I8042: the PS/2 controller as far as Linux's i8042 driver probes it (command byte,
// self tests) with no keyboard behind it, and the reset line (command 0xfe on port 0x64)
// that runvm-vmm turns into a clean VM exit.
#pragma once

#include <deque>
#include <functional>

#include "vmm/devices/bus.hpp"
#include "vmm/snapshot/device_state.hpp"

namespace runvm::vmm {

class I8042 : public BusDevice {
public:
    static constexpr uint8_t kCmdReadCtr = 0x20, kCmdWriteCtr = 0x60;
    static constexpr uint8_t kCmdSelfTest = 0xaa, kCmdKbdTest = 0xab, kCmdResetCpu = 0xfe;
    static constexpr uint8_t kStatusOutputFull = 0x01, kStatusSystem = 0x04;
    static constexpr uint8_t kStatusCommand = 0x08;
    // Ports 0x60..0x64 relative to the range base 0x60.
    static constexpr uint64_t kDataOffset = 0;
    static constexpr uint64_t kCommandOffset = 4;

    explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    snapshot::I8042State save_state() const;
    void restore_state(const snapshot::I8042State& state);

private:
    void command(uint8_t cmd);

    std::function<void()> on_reset_;
    uint8_t ctr_ = 0x30; // keyboard and aux clocks disabled, no interrupts
    uint8_t status_ = kStatusSystem;
    bool expect_ctr_ = false;
    std::deque<uint8_t> output_;
};

} // namespace runvm::vmm
