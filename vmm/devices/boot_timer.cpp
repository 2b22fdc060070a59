// Boot timer: one magic write ends the measurement.
#include "vmm/devices/boot_timer.hpp"

#include <cstring>

namespace runvm::vmm {

void BootTimer::read(uint64_t, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    data[0] = fired_ ? 1 : 0;
}

void BootTimer::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset == 0 && data[0] == kMagic && !fired_) {
        fired_ = true;
        on_boot_(Clock::now() - start_);
    }
}

} // namespace runvm::vmm
