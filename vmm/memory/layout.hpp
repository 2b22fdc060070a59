// The guest-physical address map every part of the VMM agrees on (see docs/vmm.md).
#pragma once

#include <cstdint>
#include <vector>

namespace runvm::vmm::layout {

// Low memory, all inside RAM slot 0. Addresses follow Firecracker's x86_64 layout.
inline constexpr uint64_t kGdtAddr = 0x500;
inline constexpr uint64_t kIdtAddr = 0x520;
inline constexpr uint64_t kBootParamsAddr = 0x7000;
inline constexpr uint64_t kBootStackTop = 0x8ff0;
inline constexpr uint64_t kPml4Addr = 0x9000;
inline constexpr uint64_t kPdptAddr = 0xa000;
inline constexpr uint64_t kPdAddr = 0xb000;        // four page directories: 0xb000..0xefff
inline constexpr uint64_t kRawImageAddr = 0x10000; // tiny test guests load here
inline constexpr uint64_t kCmdlineAddr = 0x20000;
inline constexpr uint64_t kCmdlineMax = 0x10000;
inline constexpr uint64_t kEbdaStart = 0x9fc00; // MP table lives here, not announced as RAM
// ACPI tables (RSDP first) in the BIOS area Linux scans; not RAM in e820.
inline constexpr uint64_t kAcpiStart = 0xe0000;
inline constexpr uint64_t kAcpiEnd = 0x100000;
inline constexpr uint64_t kHighMemStart = 0x100000;
inline constexpr uint64_t kKernelDefaultAddr = 0x1000000;

// The 32-bit gap: RAM stops at 3 GiB; [3 GiB, 4 GiB) holds MMIO devices and the
// interrupt controllers; RAM beyond 3 GiB continues at 4 GiB.
inline constexpr uint64_t kMmioGapStart = 0xc0000000;
inline constexpr uint64_t kMmioGapEnd = 0x100000000;
inline constexpr uint64_t kBootTimerMmio = 0xd0000000;  // one page
inline constexpr uint64_t kVirtioMmioBase = 0xd0001000; // one page per device
inline constexpr uint64_t kVirtioMmioSize = 0x1000;
inline constexpr uint64_t kIoapicAddr = 0xfec00000;
inline constexpr uint64_t kLapicAddr = 0xfee00000;
// KVM needs three pages for the real-mode TSS and one for the EPT identity map on Intel.
inline constexpr uint64_t kIdentityMapAddr = 0xfffbc000;
inline constexpr uint64_t kTssAddr = 0xfffbd000;

// Port I/O and interrupt lines of the legacy devices.
inline constexpr uint16_t kSerialPort = 0x3f8;
inline constexpr uint32_t kSerialIrq = 4;
inline constexpr uint16_t kI8042Port = 0x60; // data 0x60, command/status 0x64
inline constexpr uint16_t kBootTimerPort = 0x440;
inline constexpr uint16_t kAcpiSleepPort = 0x600; // FADT sleep control and status, 1 byte
inline constexpr uint32_t kVirtioIrqBase = 5;     // 5..23, skipping none: 4 is below
inline constexpr uint32_t kIrqMax = 23;

struct RamRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t file_offset; // offset inside the memfd that backs all RAM
};

// Splits `ram_bytes` of RAM around the 32-bit gap. ram_bytes must be page-aligned.
std::vector<RamRegion> ram_regions(uint64_t ram_bytes);

} // namespace runvm::vmm::layout
