// ACPI table construction: HW-reduced FADT, MADT, DSDT in AML, XSDT, RSDP (ACPI 6.4 §5).
#include "vmm/arch/x86_64/acpi_tables.hpp"

#include <cstring>
#include <string>

#include "vmm/arch/x86_64/aml.hpp"
#include "vmm/arch/x86_64/mptable.hpp"
#include "vmm/memory/layout.hpp"

namespace runvm::vmm::x86_64 {

namespace {

constexpr uint8_t kGasSystemIo = 1;
constexpr uint8_t kGasByteAccess = 1;
constexpr uint32_t kMadtLapicEnabled = 1;
constexpr uint64_t kTableAlign = 16;

AcpiHeader header(const char (&signature)[5], uint32_t length, uint8_t revision) {
    AcpiHeader h{};
    std::memcpy(h.signature, signature, 4);
    h.length = length;
    h.revision = revision;
    std::memcpy(h.oem_id, "RUNVM ", 6);
    std::memcpy(h.oem_table_id, "RUNVMVMM", 8);
    h.oem_revision = 1;
    std::memcpy(h.creator_id, "RNVM", 4);
    h.creator_revision = 1;
    return h;
}

template <typename T>
void put(std::vector<uint8_t>& out, const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

// Fixes the length and checksum of a table whose header starts `bytes`.
void seal(std::vector<uint8_t>& bytes) {
    const auto length = static_cast<uint32_t>(bytes.size());
    std::memcpy(bytes.data() + offsetof(AcpiHeader, length), &length, sizeof length);
    bytes[offsetof(AcpiHeader, checksum)] = 0;
    bytes[offsetof(AcpiHeader, checksum)] =
        static_cast<uint8_t>(-acpi_checksum(bytes.data(), bytes.size()));
}

AcpiGas io_byte_register(uint16_t port) {
    return AcpiGas{kGasSystemIo, 8, 0, kGasByteAccess, port};
}

std::vector<uint8_t> build_madt(uint32_t vcpus) {
    std::vector<uint8_t> t;
    put(t, AcpiMadtHeader{header("APIC", 0, 5), static_cast<uint32_t>(layout::kLapicAddr), 0});
    for (uint32_t id = 0; id < vcpus; ++id) {
        const auto i = static_cast<uint8_t>(id);
        put(t, AcpiMadtLapic{0, sizeof(AcpiMadtLapic), i, i, kMadtLapicEnabled});
    }
    // The IOAPIC id matches the MP table's; GSI n is IOAPIC pin n, as the irqfds assume.
    put(t, AcpiMadtIoapic{1, sizeof(AcpiMadtIoapic), static_cast<uint8_t>(vcpus + 1), 0,
                          static_cast<uint32_t>(layout::kIoapicAddr), 0});
    // LINT1 of every processor (uid 0xff) is the NMI, as in the MP table; flags 0 conform.
    put(t, AcpiMadtLapicNmi{4, sizeof(AcpiMadtLapicNmi), 0xff, 0, 1});
    seal(t);
    return t;
}

std::vector<uint8_t> build_dsdt(const AcpiConfig& config) {
    aml::Bytes devices = aml_com1_device();
    for (uint32_t i = 0; i < config.virtio_mmio.size(); ++i) {
        aml::append(devices, aml_virtio_mmio_device(i, config.virtio_mmio[i]));
    }
    aml::Bytes body = aml::scope("\\_SB_", devices);
    // \_S5_: SLP_TYP for poweroff, written to the FADT's sleep control register.
    aml::append(body,
                aml::name("_S5_", aml::package({aml::integer(kAcpiS5SleepType), aml::integer(0)})));
    std::vector<uint8_t> t;
    put(t, header("DSDT", 0, 2)); // revision 2: 64-bit integers
    t.insert(t.end(), body.begin(), body.end());
    seal(t);
    return t;
}

std::vector<uint8_t> build_fadt(uint64_t dsdt) {
    AcpiFadt f{};
    f.header = header("FACP", sizeof(AcpiFadt), 6);
    f.dsdt = static_cast<uint32_t>(dsdt);
    f.x_dsdt = dsdt;
    // Hardware-reduced: no PM blocks, SCI, PM timer or legacy PIC; Linux then also skips
    // the PIT and takes every device's interrupt from its _CRS.
    f.flags = kFadtHwReducedAcpi | kFadtResetRegSupported | kFadtPowerButtonIsDevice |
              kFadtSleepButtonIsDevice;
    // No VGA, no CMOS RTC; no 8042 flag: the i8042 here is only the reset line, which
    // `reboot=k` and the reset register below reach without the i8042 driver.
    f.iapc_boot_arch = kIapcNoVga | kIapcNoCmosRtc;
    f.reset_reg = io_byte_register(static_cast<uint16_t>(layout::kI8042Port + 4));
    f.reset_value = 0xfe; // the i8042's CPU reset command
    f.minor_version = 0;
    f.sleep_control = io_byte_register(layout::kAcpiSleepPort);
    f.sleep_status = io_byte_register(layout::kAcpiSleepPort);
    std::memcpy(&f.hypervisor_vendor_id, "RUNVM\0\0\0", 8);
    std::vector<uint8_t> t;
    put(t, f);
    seal(t);
    return t;
}

uint64_t align_up(uint64_t v) {
    return (v + kTableAlign - 1) & ~(kTableAlign - 1);
}

} // namespace

uint8_t acpi_checksum(const uint8_t* p, uint64_t len) {
    return mp_checksum(p, len);
}

std::vector<uint8_t> aml_virtio_mmio_device(uint32_t index, const AcpiVirtioMmio& dev) {
    const char hex_digits[] = "0123456789ABCDEF";
    const std::string name{'V', hex_digits[(index >> 8) & 0xf], hex_digits[(index >> 4) & 0xf],
                           hex_digits[index & 0xf]};
    // Edge-triggered: the interrupt is a KVM irqfd, which pulses the IOAPIC pin (a level
    // line would need a resample fd to know when the guest has acknowledged it).
    aml::Bytes body = aml::name("_HID", aml::string("LNRO0005")); // virtio_mmio's ACPI id
    aml::append(body, aml::name("_UID", aml::integer(index)));
    aml::append(body,
                aml::name("_CRS", aml::resource_template(
                                      {aml::memory32_fixed(true, static_cast<uint32_t>(dev.base),
                                                           kAcpiVirtioMmioWindow),
                                       aml::extended_interrupt(true, false, false, dev.gsi)})));
    return aml::device(name, body);
}

std::vector<uint8_t> aml_com1_device() {
    // Under HW-reduced ACPI Linux sets up no ISA IRQs by itself: IRQ 4 reaches the 8250
    // driver only through this device's _CRS (8250_pnp).
    aml::Bytes body = aml::name("_HID", aml::eisa_id("PNP0501"));
    aml::append(body, aml::name("_UID", aml::integer(0)));
    aml::append(
        body,
        aml::name("_CRS", aml::resource_template(
                              {aml::io_port(layout::kSerialPort, layout::kSerialPort, 1, 8),
                               aml::extended_interrupt(true, false, false, layout::kSerialIrq)})));
    return aml::device("COM1", body);
}

Result<AcpiImage> build_acpi_tables(const AcpiConfig& config) {
    if (config.vcpus == 0 || config.vcpus > kMaxVcpus) {
        return Err(Error::msg("acpi: " + std::to_string(config.vcpus) + " vCPUs (want 1.." +
                              std::to_string(kMaxVcpus) + ")"));
    }
    for (const auto& d : config.virtio_mmio) {
        if (d.base < layout::kMmioGapStart ||
            d.base + kAcpiVirtioMmioWindow > layout::kMmioGapEnd || d.gsi > layout::kIrqMax) {
            return Err(Error::msg("acpi: virtio-mmio device at " + hex(d.base) + " irq " +
                                  std::to_string(d.gsi) + " outside the 32-bit gap/IOAPIC"));
        }
    }
    AcpiImage img;
    const auto madt = build_madt(config.vcpus);
    const auto dsdt = build_dsdt(config);
    // Place: RSDP, XSDT (two entries), FADT, MADT, DSDT, each 16-byte aligned.
    const uint64_t base = layout::kAcpiStart;
    const uint64_t xsdt_len = sizeof(AcpiHeader) + 2 * sizeof(uint64_t);
    img.rsdp = base;
    img.xsdt = align_up(img.rsdp + sizeof(AcpiRsdp));
    img.fadt = align_up(img.xsdt + xsdt_len);
    img.madt = align_up(img.fadt + sizeof(AcpiFadt));
    img.dsdt = align_up(img.madt + madt.size());
    const uint64_t end = img.dsdt + dsdt.size();
    if (end > layout::kAcpiEnd) {
        return Err(
            Error::msg("acpi: tables end at " + hex(end) + ", past " + hex(layout::kAcpiEnd)));
    }
    img.bytes.assign(end - base, 0);
    auto place = [&](uint64_t at, const std::vector<uint8_t>& t) {
        std::memcpy(img.bytes.data() + (at - base), t.data(), t.size());
    };

    std::vector<uint8_t> xsdt;
    put(xsdt, header("XSDT", 0, 1));
    put(xsdt, img.fadt);
    put(xsdt, img.madt);
    seal(xsdt);

    AcpiRsdp rsdp{};
    std::memcpy(rsdp.signature, "RSD PTR ", 8);
    std::memcpy(rsdp.oem_id, "RUNVM ", 6);
    rsdp.revision = 2;
    rsdp.length = sizeof(AcpiRsdp);
    rsdp.xsdt_address = img.xsdt;
    const auto* r = reinterpret_cast<const uint8_t*>(&rsdp);
    rsdp.checksum = static_cast<uint8_t>(-acpi_checksum(r, 20));
    rsdp.extended_checksum = static_cast<uint8_t>(-acpi_checksum(r, sizeof rsdp));

    std::vector<uint8_t> rsdp_bytes;
    put(rsdp_bytes, rsdp);
    place(img.rsdp, rsdp_bytes);
    place(img.xsdt, xsdt);
    place(img.fadt, build_fadt(img.dsdt));
    place(img.madt, madt);
    place(img.dsdt, dsdt);
    return img;
}

Result<uint64_t> write_acpi_tables(GuestMemory& mem, const AcpiConfig& config) {
    RUNVM_ASSIGN_OR_RETURN(const auto img, build_acpi_tables(config));
    RUNVM_TRY(mem.write(layout::kAcpiStart, img.bytes));
    return img.rsdp;
}

} // namespace runvm::vmm::x86_64
