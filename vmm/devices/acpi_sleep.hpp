// AcpiSleep: the hardware-reduced ACPI sleep control/status register (one I/O port, the
// FADT points at it): the guest's S5 request (`poweroff`) becomes a clean VM exit.
#pragma once

#include <functional>

#include "vmm/devices/bus.hpp"

namespace runvm::vmm {

class AcpiSleep : public BusDevice {
public:
    // ACPI 6.4 §4.8.3.7: SLP_TYP in bits 2-4, SLP_EN in bit 5; WAK_STS (bit 7) in status.
    static constexpr uint8_t kSleepEnable = 0x20;
    static constexpr uint8_t kSleepTypeShift = 2, kSleepTypeMask = 0x7;

    // on_poweroff runs when the guest enables sleep with `s5_type` (the DSDT's \_S5_).
    AcpiSleep(uint8_t s5_type, std::function<void()> on_poweroff)
        : s5_type_(s5_type), on_poweroff_(std::move(on_poweroff)) {}

    // Reads 0: never awake from sleep (WAK_STS clear).
    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

private:
    uint8_t s5_type_;
    std::function<void()> on_poweroff_;
};

} // namespace runvm::vmm
