// i8042 controller commands (IBM PS/2 technical reference), no keyboard behind it.
#include "vmm/devices/i8042.hpp"

#include <cstring>

namespace runvm::vmm {

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    if (offset == kCommandOffset) {
        data[0] = static_cast<uint8_t>(status_ | (output_.empty() ? 0 : kStatusOutputFull));
    } else if (offset == kDataOffset && !output_.empty()) {
        data[0] = output_.front();
        output_.pop_front();
    }
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset == kCommandOffset) {
        status_ |= kStatusCommand;
        command(data[0]);
    } else if (offset == kDataOffset) {
        status_ = static_cast<uint8_t>(status_ & ~kStatusCommand);
        if (expect_ctr_) {
            ctr_ = data[0];
            expect_ctr_ = false;
        }
        // Bytes for the keyboard go nowhere: there is none (i8042.dumbkbd).
    }
}

snapshot::I8042State I8042::save_state() const {
    return {.ctr = ctr_,
            .status = status_,
            .expect_ctr = expect_ctr_,
            .output = {output_.begin(), output_.end()}};
}

void I8042::restore_state(const snapshot::I8042State& s) {
    ctr_ = s.ctr;
    status_ = s.status;
    expect_ctr_ = s.expect_ctr;
    output_.assign(s.output.begin(), s.output.end());
}

void I8042::command(uint8_t cmd) {
    expect_ctr_ = false;
    switch (cmd) {
    case kCmdReadCtr:
        output_.push_back(ctr_);
        return;
    case kCmdWriteCtr:
        expect_ctr_ = true;
        return;
    case kCmdSelfTest:
        output_.push_back(0x55); // passed
        return;
    case kCmdKbdTest:
        output_.push_back(0x00); // no error
        return;
    case kCmdResetCpu:
        on_reset_();
        return;
    default:
        return; // enable/disable ports and the rest need no answer
    }
}

} // namespace runvm::vmm
