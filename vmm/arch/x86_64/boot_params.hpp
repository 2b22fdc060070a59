// The Linux zero page (struct boot_params): setup header, command line, initrd, e820.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <asm/bootparam.h>

#include "base/result.hpp"
#include "vmm/arch/x86_64/kernel_image.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

struct InitrdPlacement {
    uint64_t addr = 0;
    uint64_t size = 0;
};

// The highest page-aligned address where `size` bytes fit below min(initrd_addr_max, low
// RAM end) and above the kernel; an error names the two limits when nothing fits.
Result<InitrdPlacement> place_initrd(const GuestMemory& mem, const LoadedKernel& kernel,
                                     uint64_t size);

// Builds the zero page from the kernel's setup header (bzImage) or from scratch (ELF).
Result<boot_params> build_boot_params(const LoadedKernel& kernel, uint64_t ram_bytes,
                                      uint64_t cmdline_addr, uint64_t cmdline_size,
                                      const InitrdPlacement& initrd, uint64_t acpi_rsdp_addr = 0);

// Writes cmdline (NUL-terminated) at layout::kCmdlineAddr, the initrd (if any) where
// place_initrd says, and the zero page at layout::kBootParamsAddr. A non-zero
// acpi_rsdp_addr goes to boot_params.acpi_rsdp_addr (protocol 2.14), which Linux reads
// before it scans the BIOS area for the RSDP.
Result<void> write_boot_data(GuestMemory& mem, const LoadedKernel& kernel,
                             const std::string& cmdline, std::span<const uint8_t> initrd,
                             uint64_t acpi_rsdp_addr = 0);

} // namespace runvm::vmm::x86_64
