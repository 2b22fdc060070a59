// The boot GDT: flat 64-bit code, flat data and a TSS, at the selectors the Linux 64-bit
// boot protocol names (__BOOT_CS 0x10, __BOOT_DS 0x18).
#pragma once

#include <array>
#include <cstdint>

#include <linux/kvm.h>

namespace runvm::vmm::x86_64 {

inline constexpr uint16_t kBootCs = 0x10;
inline constexpr uint16_t kBootDs = 0x18;
inline constexpr uint16_t kBootTss = 0x20;

// One descriptor from access/flags (bits 8..15 access byte, 12..15 of the high nibble
// flags), base and 20-bit limit, in the layout the CPU reads.
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

std::array<uint64_t, 5> boot_gdt();

// The kvm_segment KVM wants for a selector whose descriptor is `entry`.
kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector);

} // namespace runvm::vmm::x86_64
