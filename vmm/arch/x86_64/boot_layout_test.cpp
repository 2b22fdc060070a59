// boot_params, e820, GDT, page tables and the MP table, checked field by field.
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "vmm/arch/x86_64/boot_params.hpp"
#include "vmm/arch/x86_64/e820.hpp"
#include "vmm/arch/x86_64/gdt.hpp"
#include "vmm/arch/x86_64/mptable.hpp"
#include "vmm/arch/x86_64/page_tables.hpp"
#include "vmm/arch/x86_64/packed_field.hpp"

using namespace runvm::vmm;
using namespace runvm::vmm::x86_64;

namespace {
GuestMemory make_memory(uint64_t bytes) {
    auto mem = GuestMemory::create(bytes);
    BOOST_REQUIRE_MESSAGE(mem.ok(), (mem.ok() ? std::string() : mem.error().str()));
    return std::move(mem).value();
}
} // namespace

BOOST_AUTO_TEST_CASE(ram_regions_split_around_the_gap) {
    auto small = layout::ram_regions(256ull << 20);
    BOOST_REQUIRE_EQUAL(small.size(), 1u);
    BOOST_TEST(small[0].gpa == 0u);
    BOOST_TEST(small[0].size == 256ull << 20);
    auto big = layout::ram_regions(4ull << 30);
    BOOST_REQUIRE_EQUAL(big.size(), 2u);
    BOOST_TEST(big[0].size == layout::kMmioGapStart);
    BOOST_TEST(big[1].gpa == layout::kMmioGapEnd);
    BOOST_TEST(big[1].size == (4ull << 30) - layout::kMmioGapStart);
    BOOST_TEST(big[1].file_offset == layout::kMmioGapStart);
}

BOOST_AUTO_TEST_CASE(guest_memory_bounds) {
    auto mem = make_memory(2ull << 20);
    BOOST_TEST(mem.contains(0, 2ull << 20));
    BOOST_TEST(!mem.contains(1, 2ull << 20));
    BOOST_TEST(!mem.contains(UINT64_MAX, 2));
    BOOST_TEST(!mem.contains(0x1000, UINT64_MAX));
    BOOST_TEST(!mem.write_obj<uint32_t>((2ull << 20) - 2, 7).ok());
    BOOST_REQUIRE(mem.write_obj<uint32_t>(0x1234, 0xdeadbeef).ok());
    BOOST_TEST(*mem.read_obj<uint32_t>(0x1234) == 0xdeadbeefu);
    BOOST_TEST(!GuestMemory::create(4096).ok());
}

BOOST_AUTO_TEST_CASE(e820_small_and_large) {
    auto m = e820_map(256ull << 20);
    BOOST_REQUIRE_EQUAL(m.size(), 2u);
    BOOST_TEST(m[0].addr == 0u);
    BOOST_TEST(m[0].size == 0x9fc00u);
    BOOST_TEST(m[0].type == kE820Ram);
    BOOST_TEST(m[1].addr == 0x100000u);
    BOOST_TEST(m[1].size == (256ull << 20) - 0x100000);
    auto big = e820_map(5ull << 30);
    BOOST_REQUIRE_EQUAL(big.size(), 3u);
    BOOST_TEST(big[1].addr + big[1].size == layout::kMmioGapStart);
    BOOST_TEST(big[2].addr == 0x100000000u);
    BOOST_TEST(big[2].size == (5ull << 30) - layout::kMmioGapStart);
}

BOOST_AUTO_TEST_CASE(gdt_entries_decode_to_flat_segments) {
    auto gdt = boot_gdt();
    BOOST_TEST(gdt[0] == 0u);
    BOOST_TEST(gdt[2] == 0x00af9b000000ffffull);
    BOOST_TEST(gdt[3] == 0x00cf93000000ffffull);
    BOOST_TEST(gdt[4] == 0x008f8b000000ffffull);
    auto cs = segment_from_gdt(gdt[2], kBootCs);
    BOOST_TEST(cs.base == 0u);
    BOOST_TEST(cs.limit == 0xffffffffu);
    BOOST_TEST(cs.selector == 0x10);
    BOOST_TEST(cs.type == 0xb);
    BOOST_TEST(cs.present == 1);
    BOOST_TEST(cs.l == 1);
    BOOST_TEST(cs.db == 0);
    BOOST_TEST(cs.s == 1);
    BOOST_TEST(cs.g == 1);
    auto ds = segment_from_gdt(gdt[3], kBootDs);
    BOOST_TEST(ds.type == 0x3);
    BOOST_TEST(ds.db == 1);
    BOOST_TEST(ds.l == 0);
    auto tss = segment_from_gdt(gdt[4], kBootTss);
    BOOST_TEST(tss.type == 0xb);
    BOOST_TEST(tss.s == 0);
    BOOST_TEST(segment_from_gdt(0, 0).unusable == 1);
    BOOST_TEST(gdt_entry(0x93, 0x12345678, 0xabcde) == 0x120a93345678bcdeull);
}

BOOST_AUTO_TEST_CASE(identity_page_tables_map_4gib) {
    auto mem = make_memory(16ull << 20);
    auto cr3 = write_identity_page_tables(mem);
    BOOST_REQUIRE(cr3.ok());
    BOOST_TEST(*cr3 == layout::kPml4Addr);
    BOOST_TEST(*mem.read_obj<uint64_t>(layout::kPml4Addr) == (layout::kPdptAddr | 3));
    BOOST_TEST(*mem.read_obj<uint64_t>(layout::kPml4Addr + 8) == 0u);
    for (uint64_t i = 0; i < 4; ++i) {
        BOOST_TEST(*mem.read_obj<uint64_t>(layout::kPdptAddr + 8 * i) ==
                   ((layout::kPdAddr + 0x1000 * i) | 3));
    }
    BOOST_TEST(*mem.read_obj<uint64_t>(layout::kPdptAddr + 32) == 0u);
    // Walk a few addresses through the tables as the MMU would.
    for (uint64_t va : {0x0ull, 0x1000000ull, 0x3fffffffull, 0xfee00000ull, 0xffffffffull}) {
        auto pml4e = *mem.read_obj<uint64_t>(cr3.value() + ((va >> 39) & 511) * 8);
        auto pdpte = *mem.read_obj<uint64_t>((pml4e & ~0xfffull) + ((va >> 30) & 511) * 8);
        auto pde = *mem.read_obj<uint64_t>((pdpte & ~0xfffull) + ((va >> 21) & 511) * 8);
        BOOST_TEST((pde & kPteHuge) != 0u);
        BOOST_TEST((pde & ~0x1fffffull) + (va & 0x1fffff) == va);
    }
}

BOOST_AUTO_TEST_CASE(mptable_fields_and_checksums) {
    auto mem = make_memory(16ull << 20);
    BOOST_REQUIRE(write_mptable(mem, 2).ok());
    auto mpf = *mem.read_obj<MpfIntel>(layout::kEbdaStart);
    BOOST_TEST(std::memcmp(mpf.signature, "_MP_", 4) == 0);
    BOOST_TEST(F(mpf.physptr) == layout::kEbdaStart + 16);
    BOOST_TEST(F(mpf.length) == 1);
    BOOST_TEST(F(mpf.specification) == 4);
    BOOST_TEST(mp_checksum(reinterpret_cast<const uint8_t*>(&mpf), 16) == 0);
    auto table = *mem.read_obj<MpcTable>(mpf.physptr);
    BOOST_TEST(std::memcmp(table.signature, "PCMP", 4) == 0);
    BOOST_TEST(F(table.lapic) == layout::kLapicAddr);
    BOOST_TEST(F(table.length) == mptable_size(2) - 16);
    BOOST_TEST(mp_checksum(mem.host_range(F(mpf.physptr), F(table.length)), F(table.length)) == 0);
    BOOST_TEST(F(table.oemcount) == 2 + 2 + 24 + 2);
    uint64_t at = mpf.physptr + sizeof(MpcTable);
    for (uint8_t id = 0; id < 2; ++id, at += sizeof(MpcCpu)) {
        auto cpu = *mem.read_obj<MpcCpu>(at);
        BOOST_TEST(F(cpu.type) == 0);
        BOOST_TEST(F(cpu.apicid) == id);
        BOOST_TEST(F(cpu.cpuflag) == (id == 0 ? 3 : 1));
    }
    auto bus = *mem.read_obj<MpcBus>(at);
    BOOST_TEST(F(bus.type) == 1);
    BOOST_TEST(std::memcmp(bus.bustype, "ISA   ", 6) == 0);
    at += sizeof(MpcBus);
    auto ioapic = *mem.read_obj<MpcIoapic>(at);
    BOOST_TEST(F(ioapic.type) == 2);
    BOOST_TEST(F(ioapic.apicid) == 3);
    BOOST_TEST(F(ioapic.apicaddr) == layout::kIoapicAddr);
    at += sizeof(MpcIoapic);
    for (uint8_t irq = 0; irq < 24; ++irq, at += 8) {
        auto src = *mem.read_obj<MpcIntsrc>(at);
        BOOST_TEST(F(src.type) == 3);
        BOOST_TEST(F(src.srcbusirq) == irq);
        BOOST_TEST(F(src.dstirq) == irq);
        BOOST_TEST(F(src.dstapic) == 3);
    }
    auto lint0 = *mem.read_obj<MpcIntsrc>(at);
    auto lint1 = *mem.read_obj<MpcIntsrc>(at + 8);
    BOOST_TEST(F(lint0.type) == 4);
    BOOST_TEST(F(lint0.irqtype) == kMpIrqExtInt);
    BOOST_TEST(F(lint0.dstirq) == 0);
    BOOST_TEST(F(lint1.irqtype) == kMpIrqNmi);
    BOOST_TEST(F(lint1.dstapic) == 0xff);
    BOOST_TEST(F(lint1.dstirq) == 1);
    BOOST_TEST(at + 16 <= 0xa0000u);
    BOOST_TEST(!write_mptable(mem, 0).ok());
    BOOST_TEST(!write_mptable(mem, kMaxVcpus + 1).ok());
    BOOST_TEST(write_mptable(mem, kMaxVcpus).ok());
}

BOOST_AUTO_TEST_CASE(boot_params_for_elf_kernel) {
    auto mem = make_memory(64ull << 20);
    LoadedKernel k;
    k.entry = 0x1000000;
    k.load_addr = 0x1000000;
    k.end = 0x2000000;
    const std::string cmdline = "console=ttyS0 reboot=k";
    std::vector<uint8_t> initrd(10000, 0xab);
    BOOST_REQUIRE(write_boot_data(mem, k, cmdline, initrd).ok());
    auto bp = *mem.read_obj<boot_params>(layout::kBootParamsAddr);
    BOOST_TEST(F(bp.hdr.boot_flag) == 0xaa55);
    BOOST_TEST(F(bp.hdr.header) == 0x53726448u);
    BOOST_TEST(F(bp.hdr.type_of_loader) == 0xff);
    BOOST_TEST(F(bp.hdr.cmd_line_ptr) == layout::kCmdlineAddr);
    BOOST_TEST(F(bp.hdr.cmdline_size) == cmdline.size());
    BOOST_TEST(std::string(reinterpret_cast<const char*>(
                   mem.host_range(layout::kCmdlineAddr, 1))) == cmdline);
    BOOST_TEST(F(bp.hdr.ramdisk_size) == 10000u);
    BOOST_TEST(F(bp.hdr.ramdisk_image) % 4096 == 0u);
    BOOST_TEST(F(bp.hdr.ramdisk_image) + 10000u <= 64u << 20);
    BOOST_TEST(F(bp.hdr.ramdisk_image) + 10000u + 4096u > 64u << 20);
    BOOST_TEST(*mem.read_obj<uint8_t>(F(bp.hdr.ramdisk_image) + 9999) == 0xab);
    BOOST_TEST(F(bp.e820_entries) == 2);
    BOOST_TEST(F(bp.e820_table[1].addr) == 0x100000u);
    BOOST_TEST(F(bp.e820_table[1].type) == 1u);
    // An initrd that cannot fit above the kernel is refused, not overlapped.
    std::vector<uint8_t> huge((64ull << 20) - 0x1fff000, 0);
    BOOST_TEST(!write_boot_data(mem, k, cmdline, huge).ok());
    BOOST_TEST(!write_boot_data(mem, k, std::string(70000, 'x'), {}).ok());
}
