// I8042: just enough of the PS/2 keyboard controller for a guest to reset the machine
// (command 0xfe on port 0x64), which runvm-vmm turns into a clean VM exit.
#pragma once

#include <functional>

#include "vmm/devices/bus.hpp"

namespace runvm::vmm {

class I8042 : public BusDevice {
public:
    static constexpr uint8_t kCmdResetCpu = 0xfe;
    // Ports 0x60..0x64 relative to the range base 0x60.
    static constexpr uint64_t kDataOffset = 0;
    static constexpr uint64_t kCommandOffset = 4;

    explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

private:
    std::function<void()> on_reset_;
    uint8_t command_byte_ = 0;
    bool expect_command_byte_ = false;
};

} // namespace runvm::vmm
