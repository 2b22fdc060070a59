// Initial register state for booting.
#include "vmm/arch/x86_64/regs.hpp"

#include <cstring>

#include "vmm/arch/x86_64/gdt.hpp"

namespace runvm::vmm::x86_64 {

namespace {

constexpr uint32_t kMsrSysenterCs = 0x174, kMsrSysenterEsp = 0x175, kMsrSysenterEip = 0x176;
constexpr uint32_t kMsrStar = 0xc0000081, kMsrLstar = 0xc0000082, kMsrCstar = 0xc0000083;
constexpr uint32_t kMsrSyscallMask = 0xc0000084, kMsrKernelGsBase = 0xc0000102;
constexpr uint32_t kMsrTsc = 0x10, kMsrMiscEnable = 0x1a0, kMsrMtrrDefType = 0x2ff;
constexpr uint32_t kApicLvt0 = 0x350, kApicLvt1 = 0x360;
constexpr uint32_t kApicModeNmi = 0x4, kApicModeExtInt = 0x7;

uint32_t set_delivery_mode(uint32_t reg, uint32_t mode) {
    return (reg & ~0x700u) | (mode << 8);
}

} // namespace

Result<void> write_gdt_and_idt(GuestMemory& mem) {
    RUNVM_TRY(mem.write_obj(layout::kGdtAddr, boot_gdt()));
    return mem.write_obj(layout::kIdtAddr, uint64_t{0});
}

kvm_sregs boot_sregs(const kvm_sregs& current, EntryMode mode, uint64_t entry, uint64_t cr3) {
    kvm_sregs s = current;
    if (mode == EntryMode::real16) {
        // Reset state already is real mode; only CS moves so that CS:0 is the entry.
        s.cs.selector = static_cast<uint16_t>(entry >> 4);
        s.cs.base = entry;
        return s;
    }
    const auto gdt = boot_gdt();
    s.gdt.base = layout::kGdtAddr;
    s.gdt.limit = static_cast<uint16_t>(sizeof(gdt) - 1);
    s.idt.base = layout::kIdtAddr;
    s.idt.limit = sizeof(uint64_t) - 1;
    s.cs = segment_from_gdt(gdt[kBootCs / 8], kBootCs);
    s.ds = s.es = s.fs = s.gs = s.ss = segment_from_gdt(gdt[kBootDs / 8], kBootDs);
    s.tr = segment_from_gdt(gdt[kBootTss / 8], kBootTss);
    s.cr0 |= kCr0Pe | kCr0Et | kCr0Pg;
    s.cr3 = cr3;
    s.cr4 |= kCr4Pae;
    s.efer |= kEferLme | kEferLma;
    return s;
}

kvm_regs boot_regs(EntryMode mode, uint64_t entry) {
    kvm_regs r{};
    r.rflags = 0x2; // bit 1 is reserved and always set
    if (mode == EntryMode::real16) {
        r.rip = 0;
        r.rsp = 0xfff0;
        return r;
    }
    r.rip = entry;
    r.rsp = layout::kBootStackTop;
    r.rbp = layout::kBootStackTop;
    r.rsi = layout::kBootParamsAddr;
    return r;
}

kvm_fpu boot_fpu() {
    kvm_fpu f{};
    f.fcw = 0x37f;    // x87 default: all exceptions masked, 64-bit precision
    f.mxcsr = 0x1f80; // SSE default: all exceptions masked
    return f;
}

std::vector<kvm_msr_entry> boot_msrs() {
    auto msr = [](uint32_t index, uint64_t data) {
        kvm_msr_entry e{};
        e.index = index;
        e.data = data;
        return e;
    };
    return {
        msr(kMsrSysenterCs, 0),
        msr(kMsrSysenterEsp, 0),
        msr(kMsrSysenterEip, 0),
        msr(kMsrStar, 0),
        msr(kMsrCstar, 0),
        msr(kMsrKernelGsBase, 0),
        msr(kMsrSyscallMask, 0),
        msr(kMsrLstar, 0),
        msr(kMsrTsc, 0),
        msr(kMsrMiscEnable, 1),               // fast string operations
        msr(kMsrMtrrDefType, (1u << 11) | 6), // MTRRs on, default type write-back
    };
}

kvm_lapic_state boot_lapic(const kvm_lapic_state& current) {
    kvm_lapic_state l = current;
    uint32_t lvt0, lvt1;
    std::memcpy(&lvt0, l.regs + kApicLvt0, 4);
    std::memcpy(&lvt1, l.regs + kApicLvt1, 4);
    lvt0 = set_delivery_mode(lvt0, kApicModeExtInt);
    lvt1 = set_delivery_mode(lvt1, kApicModeNmi);
    std::memcpy(l.regs + kApicLvt0, &lvt0, 4);
    std::memcpy(l.regs + kApicLvt1, &lvt1, 4);
    return l;
}

} // namespace runvm::vmm::x86_64
