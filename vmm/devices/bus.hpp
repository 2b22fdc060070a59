// Bus: dispatches trapped port I/O or MMIO accesses to the device whose range holds them.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>

#include "base/result.hpp"

namespace runvm::vmm {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    // offset: from the start of the device's range; data: 1, 2, 4 or 8 bytes.
    virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

class Bus {
public:
    // Ranges must not overlap; the device must outlive the bus.
    Result<void> add(uint64_t base, uint64_t len, BusDevice* device);

    // Unclaimed reads return all ones (an empty ISA/PCI bus floats high); unclaimed
    // writes are dropped. Returns whether a device claimed the access.
    bool read(uint64_t addr, std::span<uint8_t> data);
    bool write(uint64_t addr, std::span<const uint8_t> data);

private:
    struct Range {
        uint64_t len;
        BusDevice* device;
    };
    // Finds the device for [addr, addr + size) and the offset inside its range.
    BusDevice* find(uint64_t addr, uint64_t size, uint64_t& offset);
    // One lock per bus: devices are small, and accesses from several vCPUs serialize here.
    std::mutex mutex_;
    std::map<uint64_t, Range> ranges_;
};

// Where a device raises its interrupt: an irqfd in the VMM, a counter in tests.
class IrqLine {
public:
    virtual ~IrqLine() = default;
    // An edge: the ISA devices here are edge-triggered.
    virtual void trigger() = 0;
};

} // namespace runvm::vmm
