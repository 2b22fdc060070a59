// Initial vCPU state for each entry mode: segment registers, control registers, general
// registers, FPU, boot MSRs and the LAPIC's LINT0/LINT1 wiring.
#pragma once

#include <cstdint>
#include <vector>

#include <linux/kvm.h>

#include "base/result.hpp"
#include "vmm/arch/x86_64/kernel_image.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

inline constexpr uint64_t kCr0Pe = 1u << 0;
inline constexpr uint64_t kCr0Et = 1u << 4;
inline constexpr uint64_t kCr0Pg = 1u << 31;
inline constexpr uint64_t kCr4Pae = 1u << 5;
inline constexpr uint64_t kEferLme = 1u << 8;
inline constexpr uint64_t kEferLma = 1u << 10;

// Writes the boot GDT and an empty IDT at their layout addresses.
Result<void> write_gdt_and_idt(GuestMemory& mem);

// 64-bit mode with paging on (cr3 from write_identity_page_tables), selectors from the
// boot GDT; or 16-bit real mode with CS:IP at the entry.
kvm_sregs boot_sregs(const kvm_sregs& current, EntryMode mode, uint64_t entry, uint64_t cr3);
// rip at the entry; rsi at boot_params for Linux; the boot stack; reserved rflags bit.
kvm_regs boot_regs(EntryMode mode, uint64_t entry);
kvm_fpu boot_fpu();
std::vector<kvm_msr_entry> boot_msrs();
// LVT0 as ExtINT (the PIC's output) and LVT1 as NMI, as a BIOS would leave them.
kvm_lapic_state boot_lapic(const kvm_lapic_state& current);

} // namespace runvm::vmm::x86_64
