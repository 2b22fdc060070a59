// Kernel format detection and the raw loader for tiny test guests.
#include "vmm/arch/x86_64/kernel_image.hpp"

#include <cstring>

namespace runvm::vmm::x86_64 {

Result<KernelFormat> detect_kernel_format(std::span<const uint8_t> image) {
    if (image.size() >= 4 && std::memcmp(image.data(),
                                         "\x7f"
                                         "ELF",
                                         4) == 0) {
        return KernelFormat::elf;
    }
    if (image.size() >= 0x206 && std::memcmp(image.data() + 0x202, "HdrS", 4) == 0) {
        return KernelFormat::bzimage;
    }
    return Err(Error::msg("kernel image: neither ELF nor bzImage (no HdrS at 0x202)"));
}

Result<LoadedKernel> load_raw(GuestMemory& mem, std::span<const uint8_t> image, EntryMode mode) {
    // Real mode reaches 1 MiB at most; the image must also stay clear of the cmdline.
    if (image.size() > layout::kCmdlineAddr - layout::kRawImageAddr) {
        return Err(Error::msg("raw image: " + std::to_string(image.size()) +
                              " bytes, more than the " +
                              std::to_string(layout::kCmdlineAddr - layout::kRawImageAddr) +
                              " that fit at " + hex(layout::kRawImageAddr)));
    }
    RUNVM_TRY(mem.write(layout::kRawImageAddr, image));
    LoadedKernel k;
    k.entry = layout::kRawImageAddr;
    k.load_addr = layout::kRawImageAddr;
    k.end = layout::kRawImageAddr + image.size();
    k.mode = mode;
    return k;
}

} // namespace runvm::vmm::x86_64
