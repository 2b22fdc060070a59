// Zero page, command line and initrd placement per Documentation/x86/boot.rst.
#include "vmm/arch/x86_64/boot_params.hpp"

#include <algorithm>
#include <cstring>

#include "vmm/arch/x86_64/e820.hpp"

namespace runvm::vmm::x86_64 {

namespace {
constexpr uint64_t kPage = 0x1000;
constexpr uint8_t kLoaderUndefined = 0xff;
constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint8_t kCanUseHeap = 0x80;
} // namespace

Result<InitrdPlacement> place_initrd(const GuestMemory& mem, const LoadedKernel& kernel,
                                     uint64_t size) {
    const uint64_t limit = std::min(kernel.initrd_addr_max + 1, mem.low_ram_end());
    const uint64_t floor = (kernel.end + kPage - 1) & ~(kPage - 1);
    if (size > limit || ((limit - size) & ~(kPage - 1)) < floor) {
        return Err(Error::msg("initrd of " + hex(size) +
                              " bytes: does not fit between the kernel end " + hex(floor) +
                              " and " + hex(limit)));
    }
    return InitrdPlacement{(limit - size) & ~(kPage - 1), size};
}

Result<boot_params> build_boot_params(const LoadedKernel& kernel, uint64_t ram_bytes,
                                      uint64_t cmdline_addr, uint64_t cmdline_size,
                                      const InitrdPlacement& initrd, uint64_t acpi_rsdp_addr) {
    boot_params bp{};
    static_assert(sizeof(bp) == 4096);
    auto* raw = reinterpret_cast<uint8_t*>(&bp);
    if (kernel.setup_header) {
        // Copy the header as the image declares it: 0x202 + the byte at 0x201.
        const uint64_t end = std::min<uint64_t>(0x202 + (*kernel.setup_header)[0x201 - 0x1f1],
                                                0x1f1 + kernel.setup_header->size());
        std::memcpy(raw + 0x1f1, kernel.setup_header->data(), end - 0x1f1);
    } else {
        bp.hdr.boot_flag = 0xaa55;
        bp.hdr.header = 0x53726448;
        bp.hdr.kernel_alignment = 0x1000000;
    }
    bp.hdr.type_of_loader = kLoaderUndefined;
    bp.hdr.loadflags = static_cast<uint8_t>(bp.hdr.loadflags | kLoadedHigh | kCanUseHeap);
    bp.hdr.heap_end_ptr = 0xfe00 - 0x200;
    bp.hdr.cmd_line_ptr = static_cast<uint32_t>(cmdline_addr);
    bp.ext_cmd_line_ptr = static_cast<uint32_t>(cmdline_addr >> 32);
    bp.hdr.cmdline_size = static_cast<uint32_t>(cmdline_size);
    bp.hdr.ramdisk_image = static_cast<uint32_t>(initrd.addr);
    bp.ext_ramdisk_image = static_cast<uint32_t>(initrd.addr >> 32);
    bp.hdr.ramdisk_size = static_cast<uint32_t>(initrd.size);
    bp.ext_ramdisk_size = static_cast<uint32_t>(initrd.size >> 32);
    bp.acpi_rsdp_addr = acpi_rsdp_addr;

    const auto map = e820_map(ram_bytes);
    if (map.size() > E820_MAX_ENTRIES_ZEROPAGE) {
        return Err(Error::msg("boot_params: e820 map has " + std::to_string(map.size()) +
                              " entries, more than the zero page holds"));
    }
    for (size_t i = 0; i < map.size(); ++i) {
        bp.e820_table[i].addr = map[i].addr;
        bp.e820_table[i].size = map[i].size;
        bp.e820_table[i].type = map[i].type;
    }
    bp.e820_entries = static_cast<uint8_t>(map.size());
    return bp;
}

Result<void> write_boot_data(GuestMemory& mem, const LoadedKernel& kernel,
                             const std::string& cmdline, std::span<const uint8_t> initrd,
                             uint64_t acpi_rsdp_addr) {
    if (cmdline.size() + 1 > layout::kCmdlineMax || cmdline.find('\0') != std::string::npos) {
        return Err(Error::msg("kernel command line: " + std::to_string(cmdline.size()) +
                              " bytes, must be under " + std::to_string(layout::kCmdlineMax) +
                              " without NUL"));
    }
    if (kernel.setup_header) {
        uint32_t limit = 0; // cmdline_size at 0x238, protocol 2.06+
        std::memcpy(&limit, kernel.setup_header->data() + (0x238 - 0x1f1), sizeof limit);
        if (limit != 0 && cmdline.size() > limit) {
            return Err(Error::msg("kernel command line: " + std::to_string(cmdline.size()) +
                                  " bytes, the kernel accepts " + std::to_string(limit)));
        }
    }
    RUNVM_TRY(
        mem.write(layout::kCmdlineAddr, std::span(reinterpret_cast<const uint8_t*>(cmdline.c_str()),
                                                  cmdline.size() + 1)));
    InitrdPlacement placement;
    if (!initrd.empty()) {
        RUNVM_ASSIGN_OR_RETURN(placement, place_initrd(mem, kernel, initrd.size()));
        RUNVM_TRY(mem.write(placement.addr, initrd));
    }
    RUNVM_ASSIGN_OR_RETURN(const auto bp,
                           build_boot_params(kernel, mem.ram_bytes(), layout::kCmdlineAddr,
                                             cmdline.size(), placement, acpi_rsdp_addr));
    return mem.write_obj(layout::kBootParamsAddr, bp);
}

} // namespace runvm::vmm::x86_64
