// ACPI sleep register: S5 ends the VM; other writes (clearing WAK_STS first) do nothing.
#include "vmm/devices/acpi_sleep.hpp"

#include <cstring>

namespace runvm::vmm {

void AcpiSleep::read(uint64_t, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
}

void AcpiSleep::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset != 0 || data.empty()) {
        return;
    }
    const uint8_t v = data[0];
    if ((v & kSleepEnable) != 0 && ((v >> kSleepTypeShift) & kSleepTypeMask) == s5_type_) {
        on_poweroff_();
    }
}

} // namespace runvm::vmm
