// i8042 reset line and a command byte that reads back, so drivers probe cleanly.
#include "vmm/devices/i8042.hpp"

#include <cstring>

namespace runvm::vmm {

namespace {
constexpr uint8_t kCmdReadCommandByte = 0x20, kCmdWriteCommandByte = 0x60;
} // namespace

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    if (offset == kDataOffset) {
        data[0] = command_byte_;
    }
    // Status (0x64) reads 0: output buffer empty, input buffer empty.
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset == kCommandOffset) {
        expect_command_byte_ = data[0] == kCmdWriteCommandByte;
        if (data[0] == kCmdResetCpu) {
            on_reset_();
        }
        (void)kCmdReadCommandByte;
    } else if (offset == kDataOffset && expect_command_byte_) {
        command_byte_ = data[0];
        expect_command_byte_ = false;
    }
}

} // namespace runvm::vmm
