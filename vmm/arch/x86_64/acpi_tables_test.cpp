// ACPI tables and the AML writer, checked byte by byte: every table's signature, length,
// revision and checksum, the pointers between them, MADT entries, DSDT device encodings.
#include <array>
#include <cstring>
#include <string>

#include <boost/test/unit_test.hpp>

#include "vmm/arch/x86_64/acpi_tables.hpp"
#include "vmm/arch/x86_64/aml.hpp"
#include "vmm/arch/x86_64/boot_params.hpp"
#include "vmm/arch/x86_64/mptable.hpp"
#include "vmm/memory/layout.hpp"
#include "vmm/arch/x86_64/packed_field.hpp"

using namespace runvm::vmm;
using namespace runvm::vmm::x86_64;

namespace {

AcpiImage build(uint32_t vcpus, std::vector<AcpiVirtioMmio> devs) {
    auto img = build_acpi_tables(AcpiConfig{vcpus, std::move(devs)});
    BOOST_REQUIRE_MESSAGE(img.ok(), (img.ok() ? std::string() : img.error().str()));
    return std::move(img).value();
}

const uint8_t* at(const AcpiImage& img, uint64_t gpa) {
    BOOST_REQUIRE(gpa >= layout::kAcpiStart && gpa < layout::kAcpiStart + img.bytes.size());
    return img.bytes.data() + (gpa - layout::kAcpiStart);
}

// Checks signature, revision, that the table lies inside the image and sums to zero.
AcpiHeader check_table(const AcpiImage& img, uint64_t gpa, const char* sig, uint8_t rev) {
    AcpiHeader h;
    std::memcpy(&h, at(img, gpa), sizeof h);
    BOOST_TEST(std::string(h.signature, 4) == sig);
    BOOST_TEST(F(h.revision) == rev);
    BOOST_REQUIRE(gpa - layout::kAcpiStart + h.length <= img.bytes.size());
    BOOST_TEST(acpi_checksum(at(img, gpa), h.length) == 0, sig << " checksum");
    BOOST_TEST(std::string(h.oem_id, 6) == "RUNVM ");
    return h;
}

aml::Bytes bytes(std::initializer_list<uint8_t> b) {
    return aml::Bytes(b);
}

} // namespace

BOOST_AUTO_TEST_CASE(aml_pkg_length_encodings) {
    // ACPI 6.4 §20.2.4: the length counts its own bytes; bits 7-6 of byte 0 = extra bytes.
    BOOST_TEST(aml::pkg_length(0) == bytes({0x01}), boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(62) == bytes({0x3f}), boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(63) == bytes({0x41, 0x04}), boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(0x123) == bytes({0x45, 0x12}), boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(0xffd) == bytes({0x4f, 0xff}), boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(0xffe) == bytes({0x81, 0x00, 0x01}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::pkg_length(0x100000) == bytes({0xc4, 0x00, 0x00, 0x01}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(aml_names_integers_strings) {
    BOOST_TEST(aml::name_string("\\_SB_") == bytes({0x5c, '_', 'S', 'B', '_'}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::name_string("_SB.COM1") ==
                   bytes({0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::name_string("\\A.B.C") == bytes({0x5c, 0x2f, 3, 'A', '_', '_', '_', 'B', '_',
                                                     '_', '_', 'C', '_', '_', '_'}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::integer(0) == bytes({0x00}), boost::test_tools::per_element());
    BOOST_TEST(aml::integer(1) == bytes({0x01}), boost::test_tools::per_element());
    BOOST_TEST(aml::integer(5) == bytes({0x0a, 5}), boost::test_tools::per_element());
    BOOST_TEST(aml::integer(0x1234) == bytes({0x0b, 0x34, 0x12}), boost::test_tools::per_element());
    BOOST_TEST(aml::integer(0xd0001000) == bytes({0x0c, 0x00, 0x10, 0x00, 0xd0}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::integer(0x100000000) == bytes({0x0e, 0, 0, 0, 0, 1, 0, 0, 0}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::string("AB") == bytes({0x0d, 'A', 'B', 0}), boost::test_tools::per_element());
    // EISAID("PNP0501") == 0x0105D041, as iasl and every PC firmware encode it.
    BOOST_TEST(aml::eisa_id("PNP0501") == bytes({0x0c, 0x41, 0xd0, 0x05, 0x01}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::eisa_id("PNP0A03") == bytes({0x0c, 0x41, 0xd0, 0x0a, 0x03}),
               boost::test_tools::per_element());
    BOOST_TEST(aml::package({aml::integer(5), aml::integer(0)}) ==
                   bytes({0x12, 0x05, 0x02, 0x0a, 0x05, 0x00}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(aml_virtio_mmio_device_matches_hand_encoding) {
    // Device (V000) { Name (_HID, "LNRO0005")  Name (_UID, Zero)
    //   Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, 0xD0001000, 0x200)
    //     Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 5 } }) }
    const aml::Bytes want = {
        0x5b, 0x82, 0x3a, 'V',  '0',  '0',  '0', // Device, len 58
        0x08, '_',  'H',  'I',  'D',  0x0d, 'L',  'N',  'R',  'O',  '0',  '0',  '0', '5', 0x00, //
        0x08, '_',  'U',  'I',  'D',  0x00,                                     // _UID Zero
        0x08, '_',  'C',  'R',  'S',  0x11, 0x1a, 0x0a, 0x17,                   // Buffer(23)
        0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00, // Mem32Fixed
        0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,                   // Interrupt {5}
        0x79, 0x7d};                                                            // EndTag, sum 0
    BOOST_TEST(aml_virtio_mmio_device(0, {0xd0001000, 5}) == want,
               boost::test_tools::per_element());
    const auto dev11 = aml_virtio_mmio_device(0x11, {0xd0012000, 22});
    BOOST_TEST(std::string(dev11.begin() + 3, dev11.begin() + 7) == "V011");
}

BOOST_AUTO_TEST_CASE(aml_com1_device_matches_hand_encoding) {
    // Device (COM1) { Name (_HID, EisaId ("PNP0501"))  Name (_UID, Zero)
    //   Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 0x01, 0x08)
    //     Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 4 } }) }
    const aml::Bytes want = {0x5b, 0x82, 0x31, 'C',  'O',  'M',  '1', // Device, len 49
                             0x08, '_',  'H',  'I',  'D',  0x0c, 0x41, 0xd0, 0x05, 0x01, // EisaId
                             0x08, '_',  'U',  'I',  'D',  0x00,                         //
                             0x08, '_',  'C',  'R',  'S',  0x11, 0x16, 0x0a, 0x13, // Buffer(19)
                             0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,       // IO
                             0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00, // Interrupt {4}
                             0x79, 0xa9};                                          // EndTag, sum 0
    BOOST_TEST(aml_com1_device() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(acpi_rsdp_and_xsdt) {
    const auto img = build(2, {{0xd0001000, 5}, {0xd0002000, 6}});
    BOOST_TEST(img.rsdp == layout::kAcpiStart);
    BOOST_TEST(img.rsdp % 16 == 0u); // Linux scans 0xe0000..0xfffff on 16-byte boundaries
    AcpiRsdp rsdp;
    std::memcpy(&rsdp, at(img, img.rsdp), sizeof rsdp);
    BOOST_TEST(std::string(rsdp.signature, 8) == "RSD PTR ");
    BOOST_TEST(F(rsdp.revision) == 2);
    BOOST_TEST(F(rsdp.length) == 36u);
    BOOST_TEST(acpi_checksum(at(img, img.rsdp), 20) == 0);
    BOOST_TEST(acpi_checksum(at(img, img.rsdp), 36) == 0);
    BOOST_TEST(F(rsdp.xsdt_address) == img.xsdt);

    const auto xsdt = check_table(img, img.xsdt, "XSDT", 1);
    BOOST_REQUIRE_EQUAL(F(xsdt.length), sizeof(AcpiHeader) + 16);
    uint64_t entries[2];
    std::memcpy(entries, at(img, img.xsdt + sizeof(AcpiHeader)), sizeof entries);
    BOOST_TEST(entries[0] == img.fadt);
    BOOST_TEST(entries[1] == img.madt);
    check_table(img, entries[0], "FACP", 6);
    check_table(img, entries[1], "APIC", 5);
    BOOST_TEST(img.rsdp + img.bytes.size() <= layout::kAcpiEnd);
}

BOOST_AUTO_TEST_CASE(acpi_fadt_is_hardware_reduced) {
    const auto img = build(1, {});
    const auto h = check_table(img, img.fadt, "FACP", 6);
    BOOST_TEST(F(h.length) == sizeof(AcpiFadt));
    AcpiFadt f;
    std::memcpy(&f, at(img, img.fadt), sizeof f);
    BOOST_TEST((F(f.flags) & kFadtHwReducedAcpi) != 0u);
    BOOST_TEST((F(f.flags) & kFadtResetRegSupported) != 0u);
    BOOST_TEST(F(f.x_dsdt) == img.dsdt);
    BOOST_TEST(F(f.dsdt) == img.dsdt);
    BOOST_TEST(F(f.x_firmware_ctrl) == 0u); // no FACS: HW-reduced needs none
    BOOST_TEST(F(f.sci_int) == 0u);
    BOOST_TEST(F(f.iapc_boot_arch) == (kIapcNoVga | kIapcNoCmosRtc)); // and no 8042
    BOOST_TEST(F(f.reset_reg.space_id) == 1);
    BOOST_TEST(F(f.reset_reg.address) == 0x64u);
    BOOST_TEST(F(f.reset_value) == 0xfe);
    for (const AcpiGas& g : {f.sleep_control, f.sleep_status}) {
        BOOST_TEST(F(g.space_id) == 1); // system I/O
        BOOST_TEST(F(g.bit_width) == 8);
        BOOST_TEST(F(g.address) == layout::kAcpiSleepPort);
    }
}

BOOST_AUTO_TEST_CASE(acpi_madt_lists_every_vcpu_and_the_ioapic) {
    for (uint32_t vcpus : {1u, 2u, kMaxVcpus}) {
        const auto img = build(vcpus, {});
        const auto h = check_table(img, img.madt, "APIC", 5);
        BOOST_TEST(F(h.length) == sizeof(AcpiMadtHeader) + 8 * vcpus + 12 + 6);
        AcpiMadtHeader m;
        std::memcpy(&m, at(img, img.madt), sizeof m);
        BOOST_TEST(F(m.lapic_address) == layout::kLapicAddr);
        uint64_t off = sizeof m;
        uint32_t lapics = 0, ioapics = 0, nmis = 0;
        while (off < h.length) {
            const uint8_t* e = at(img, img.madt + off);
            BOOST_REQUIRE(e[1] >= 2);
            if (e[0] == 0) {
                AcpiMadtLapic l;
                std::memcpy(&l, e, sizeof l);
                BOOST_TEST(F(l.length) == 8);
                BOOST_TEST(F(l.apic_id) == lapics);
                BOOST_TEST(F(l.processor_uid) == lapics);
                BOOST_TEST(F(l.flags) == 1u); // enabled
                ++lapics;
            } else if (e[0] == 1) {
                AcpiMadtIoapic io;
                std::memcpy(&io, e, sizeof io);
                BOOST_TEST(F(io.ioapic_id) == vcpus + 1); // as the MP table says
                BOOST_TEST(F(io.address) == layout::kIoapicAddr);
                BOOST_TEST(F(io.gsi_base) == 0u);
                ++ioapics;
            } else if (e[0] == 4) {
                BOOST_TEST(e[1] == 6);
                BOOST_TEST(e[2] == 0xff);
                BOOST_TEST(e[5] == 1); // LINT1
                ++nmis;
            } else {
                BOOST_FAIL("unexpected MADT entry type " << int(e[0]));
            }
            off += e[1];
        }
        BOOST_TEST(off == h.length);
        BOOST_TEST(lapics == vcpus);
        BOOST_TEST(ioapics == 1u);
        BOOST_TEST(nmis == 1u);
    }
    BOOST_TEST(!build_acpi_tables(AcpiConfig{0, {}}).ok());
    BOOST_TEST(!build_acpi_tables(AcpiConfig{kMaxVcpus + 1, {}}).ok());
    BOOST_TEST(!build_acpi_tables(AcpiConfig{1, {{0x1000, 5}}}).ok());
    BOOST_TEST(!build_acpi_tables(AcpiConfig{1, {{0xffffff00, 5}}}).ok());
    BOOST_TEST(!build_acpi_tables(AcpiConfig{1, {{0xd0001000, 24}}}).ok());
}

BOOST_AUTO_TEST_CASE(acpi_dsdt_holds_the_devices) {
    const std::vector<AcpiVirtioMmio> devs = {{0xd0001000, 5}, {0xd0002000, 6}};
    const auto img = build(1, devs);
    const auto h = check_table(img, img.dsdt, "DSDT", 2);
    const uint8_t* body = at(img, img.dsdt) + sizeof(AcpiHeader);
    const aml::Bytes aml(body, body + (h.length - sizeof(AcpiHeader)));
    aml::Bytes devices = aml_com1_device();
    aml::append(devices, aml_virtio_mmio_device(0, devs[0]));
    aml::append(devices, aml_virtio_mmio_device(1, devs[1]));
    aml::Bytes want = aml::scope("\\_SB_", devices);
    // Name (_S5_, Package () { 5, Zero })
    aml::append(want, bytes({0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00}));
    BOOST_TEST(aml == want, boost::test_tools::per_element());
    // Scope(\_SB_) header: ScopeOp, a 2-byte PkgLength covering everything up to _S5_.
    BOOST_TEST(aml[0] == 0x10);
    const size_t scope_len = (aml[1] & 0xf) | (size_t{aml[2]} << 4);
    BOOST_TEST((aml[1] >> 6) == 1);
    BOOST_TEST(scope_len + 1 == want.size() - 11);
}

BOOST_AUTO_TEST_CASE(acpi_tables_written_to_guest_memory_and_boot_params) {
    auto mem = GuestMemory::create(64ull << 20);
    BOOST_REQUIRE(mem.ok());
    auto rsdp = write_acpi_tables(*mem, AcpiConfig{2, {{0xd0001000, 5}}});
    BOOST_REQUIRE(rsdp.ok());
    BOOST_TEST(*rsdp == layout::kAcpiStart);
    auto sig = mem->read_obj<std::array<char, 8>>(*rsdp);
    BOOST_REQUIRE(sig.ok());
    BOOST_TEST(std::string(sig->data(), 8) == "RSD PTR ");
    LoadedKernel k{};
    k.entry = 0x1000000;
    auto bp = build_boot_params(k, 64ull << 20, layout::kCmdlineAddr, 10, {}, *rsdp);
    BOOST_REQUIRE(bp.ok());
    BOOST_TEST(F(bp->acpi_rsdp_addr) == layout::kAcpiStart);
    // The tables stay outside the RAM that e820 hands to the kernel.
    for (uint8_t i = 0; i < bp->e820_entries; ++i) {
        const auto& e = bp->e820_table[i];
        BOOST_TEST((e.addr + e.size <= layout::kAcpiStart || e.addr >= layout::kAcpiEnd));
    }
}
