// The Intel MultiProcessor Specification 1.4 table that tells Linux about the vCPUs, the
// IOAPIC and how the ISA interrupts are wired, written at the EBDA.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

#pragma pack(push, 1)
struct MpfIntel {      // floating pointer structure
    char signature[4]; // "_MP_"
    uint32_t physptr;
    uint8_t length; // in 16-byte units
    uint8_t specification;
    uint8_t checksum;
    uint8_t feature[5];
};
struct MpcTable {      // configuration table header
    char signature[4]; // "PCMP"
    uint16_t length;
    uint8_t spec;
    uint8_t checksum;
    char oem[8];
    char productid[12];
    uint32_t oemptr;
    uint16_t oemsize;
    uint16_t oemcount;
    uint32_t lapic;
    uint32_t reserved;
};
struct MpcCpu {
    uint8_t type; // 0
    uint8_t apicid;
    uint8_t apicver;
    uint8_t cpuflag;
    uint32_t cpufeature;
    uint32_t featureflag;
    uint32_t reserved[2];
};
struct MpcBus {
    uint8_t type; // 1
    uint8_t busid;
    char bustype[6];
};
struct MpcIoapic {
    uint8_t type; // 2
    uint8_t apicid;
    uint8_t apicver;
    uint8_t flags;
    uint32_t apicaddr;
};
struct MpcIntsrc { // type 3 (I/O interrupt) and 4 (local interrupt) share this shape
    uint8_t type;
    uint8_t irqtype;
    uint16_t irqflag;
    uint8_t srcbus;
    uint8_t srcbusirq;
    uint8_t dstapic;
    uint8_t dstirq;
};
#pragma pack(pop)
static_assert(sizeof(MpfIntel) == 16 && sizeof(MpcTable) == 44 && sizeof(MpcCpu) == 20);
static_assert(sizeof(MpcBus) == 8 && sizeof(MpcIoapic) == 8 && sizeof(MpcIntsrc) == 8);

inline constexpr uint8_t kApicVersion = 0x14;
inline constexpr uint8_t kCpuEnabled = 1;
inline constexpr uint8_t kCpuBootProcessor = 2;
inline constexpr uint8_t kMpIrqInt = 0;
inline constexpr uint8_t kMpIrqNmi = 1;
inline constexpr uint8_t kMpIrqExtInt = 3;
// The table must fit between the EBDA start and 640 KiB.
inline constexpr uint32_t kMaxVcpus = 32;

// Size in bytes of the whole structure (floating pointer + table) for `vcpus`.
uint64_t mptable_size(uint32_t vcpus);

// Writes the floating pointer at layout::kEbdaStart and the table right after it. The
// IOAPIC gets APIC id vcpus + 1; ISA IRQs 0..kIrqMax map 1:1 to IOAPIC pins.
Result<void> write_mptable(GuestMemory& mem, uint32_t vcpus);

uint8_t mp_checksum(const uint8_t* p, uint64_t len);

} // namespace runvm::vmm::x86_64
