// Boot GDT entries and their kvm_segment form.
#include "vmm/arch/x86_64/gdt.hpp"

namespace runvm::vmm::x86_64 {

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit) {
    return ((static_cast<uint64_t>(base) & 0xff000000u) << (56 - 24)) |
           ((static_cast<uint64_t>(flags) & 0x0000f0ffu) << 40) |
           ((static_cast<uint64_t>(limit) & 0x000f0000u) << (48 - 16)) |
           ((static_cast<uint64_t>(base) & 0x00ffffffu) << 16) |
           (static_cast<uint64_t>(limit) & 0x0000ffffu);
}

std::array<uint64_t, 5> boot_gdt() {
    return {
        0,
        0,
        gdt_entry(0xa09b, 0, 0xfffff), // code: present, DPL0, exec/read, L=1, G=1
        gdt_entry(0xc093, 0, 0xfffff), // data: present, DPL0, read/write, D/B=1, G=1
        gdt_entry(0x808b, 0, 0xfffff), // TSS: present, busy 64-bit TSS
    };
}

kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector) {
    kvm_segment s{};
    s.base = ((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24);
    const auto raw_limit = static_cast<uint32_t>((entry & 0xffff) | (((entry >> 48) & 0xf) << 16));
    s.g = static_cast<uint8_t>((entry >> 55) & 1);
    // With G set the limit counts 4 KiB pages; KVM wants it in bytes.
    s.limit = s.g != 0 ? (raw_limit << 12) | 0xfff : raw_limit;
    s.selector = selector;
    s.type = static_cast<uint8_t>((entry >> 40) & 0xf);
    s.present = static_cast<uint8_t>((entry >> 47) & 1);
    s.dpl = static_cast<uint8_t>((entry >> 45) & 3);
    s.db = static_cast<uint8_t>((entry >> 54) & 1);
    s.s = static_cast<uint8_t>((entry >> 44) & 1);
    s.l = static_cast<uint8_t>((entry >> 53) & 1);
    s.avl = static_cast<uint8_t>((entry >> 52) & 1);
    s.unusable = s.present != 0 ? 0 : 1;
    return s;
}

} // namespace runvm::vmm::x86_64
