// Minimal ACPI tables (RSDP, XSDT, FADT, MADT, DSDT) for a hardware-reduced microVM: the
// vCPUs and IOAPIC for SMP, and the devices Linux cannot probe (virtio-mmio, COM1, the
// S5 sleep register for poweroff), as QEMU's microvm and Firecracker present them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

#pragma pack(push, 1)
struct AcpiHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
};
struct AcpiRsdp {
    char signature[8]; // "RSD PTR "
    uint8_t checksum;  // over the first 20 bytes (the ACPI 1.0 structure)
    char oem_id[6];
    uint8_t revision; // 2: XSDT
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; // over all 36 bytes
    uint8_t reserved[3];
};
struct AcpiGas { // Generic Address Structure
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};
struct AcpiFadt { // revision 6 (ACPI 6.0+)
    AcpiHeader header;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t legacy_blocks[8]; // PM1a/b event, PM1a/b control, PM2, PM timer, GPE0, GPE1
    uint8_t legacy_lengths[8];
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    AcpiGas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl;
    uint64_t x_dsdt;
    AcpiGas x_legacy_blocks[8];
    AcpiGas sleep_control;
    AcpiGas sleep_status;
    uint64_t hypervisor_vendor_id;
};
struct AcpiMadtHeader {
    AcpiHeader header;
    uint32_t lapic_address;
    uint32_t flags;
};
struct AcpiMadtLapic { // type 0
    uint8_t type, length, processor_uid, apic_id;
    uint32_t flags;
};
struct AcpiMadtIoapic { // type 1
    uint8_t type, length, ioapic_id, reserved;
    uint32_t address;
    uint32_t gsi_base;
};
struct AcpiMadtLapicNmi { // type 4
    uint8_t type, length, processor_uid;
    uint16_t flags;
    uint8_t lint;
};
#pragma pack(pop)
static_assert(sizeof(AcpiHeader) == 36 && sizeof(AcpiRsdp) == 36 && sizeof(AcpiGas) == 12);
static_assert(offsetof(AcpiFadt, iapc_boot_arch) == 109 && offsetof(AcpiFadt, flags) == 112);
static_assert(offsetof(AcpiFadt, reset_reg) == 116 && offsetof(AcpiFadt, minor_version) == 131);
static_assert(offsetof(AcpiFadt, x_dsdt) == 140 && offsetof(AcpiFadt, sleep_control) == 244);
static_assert(sizeof(AcpiFadt) == 276 && sizeof(AcpiMadtHeader) == 44);
static_assert(sizeof(AcpiMadtLapic) == 8 && sizeof(AcpiMadtIoapic) == 12);
static_assert(sizeof(AcpiMadtLapicNmi) == 6);

inline constexpr uint32_t kFadtHwReducedAcpi = 1u << 20;
inline constexpr uint32_t kFadtResetRegSupported = 1u << 10;
inline constexpr uint32_t kFadtPowerButtonIsDevice = 1u << 4; // no fixed power button
inline constexpr uint32_t kFadtSleepButtonIsDevice = 1u << 5;
inline constexpr uint16_t kIapcNoVga = 1u << 2;
inline constexpr uint16_t kIapcNoCmosRtc = 1u << 5;
// The SLP_TYP the DSDT's \_S5_ names; the guest writes SLP_TYP << 2 | SLP_EN (0x20).
inline constexpr uint8_t kAcpiS5SleepType = 5;
// Each virtio-mmio window as the DSDT declares it (Linux maps this much of the 4 KiB page).
inline constexpr uint32_t kAcpiVirtioMmioWindow = 0x200;

struct AcpiVirtioMmio {
    uint64_t base;
    uint32_t gsi;
};

struct AcpiConfig {
    uint32_t vcpus = 1;
    std::vector<AcpiVirtioMmio> virtio_mmio;
};

// The tables as one image for [layout::kAcpiStart, layout::kAcpiEnd), RSDP first.
struct AcpiImage {
    std::vector<uint8_t> bytes;
    uint64_t rsdp = 0, xsdt = 0, fadt = 0, madt = 0, dsdt = 0; // guest-physical addresses
};

Result<AcpiImage> build_acpi_tables(const AcpiConfig& config);
// Builds the tables and writes them at layout::kAcpiStart; returns the RSDP's address.
Result<uint64_t> write_acpi_tables(GuestMemory& mem, const AcpiConfig& config);

// The DSDT's Device terms, exposed for tests.
std::vector<uint8_t> aml_virtio_mmio_device(uint32_t index, const AcpiVirtioMmio& dev);
std::vector<uint8_t> aml_com1_device();

uint8_t acpi_checksum(const uint8_t* p, uint64_t len);

} // namespace runvm::vmm::x86_64
