// bzImage loader: validates the setup header, copies the protected-mode kernel.
#include "vmm/arch/x86_64/bzimage_loader.hpp"

#include <algorithm>
#include <cstring>

namespace runvm::vmm::x86_64 {

namespace {

template <typename T>
T field(std::span<const uint8_t> image, uint64_t off) {
    T v;
    std::memcpy(&v, image.data() + off, sizeof(T));
    return v;
}

} // namespace

Result<LoadedKernel> load_bzimage(GuestMemory& mem, std::span<const uint8_t> image) {
    LoadedKernel k;
    k.setup_header.emplace();
    if (image.size() < kSetupHeaderOffset + k.setup_header->size()) {
        return Err(Error::msg("bzImage: " + std::to_string(image.size()) +
                              " bytes, too short for a setup header"));
    }
    if (field<uint32_t>(image, 0x202) != kHdrSMagic) {
        return Err(Error::msg("bzImage header at 0x202: no HdrS signature"));
    }
    const auto version = field<uint16_t>(image, 0x206);
    if (version < kMinBootProtocol) {
        return Err(Error::msg("bzImage boot protocol " + hex(version) + ": need 2.12 or later"));
    }
    if ((field<uint16_t>(image, 0x236) & kXlfKernel64) == 0) {
        return Err(Error::msg("bzImage xloadflags: no 64-bit entry point (XLF_KERNEL_64)"));
    }
    uint64_t setup_sects = image[0x1f1];
    if (setup_sects == 0) {
        setup_sects = 4; // boot protocol: 0 means 4
    }
    const uint64_t kernel_offset = (setup_sects + 1) * 512;
    if (kernel_offset >= image.size()) {
        return Err(Error::msg("bzImage setup_sects " + std::to_string(setup_sects) +
                              ": protected-mode kernel beyond end of file"));
    }
    const auto kernel = image.subspan(kernel_offset);
    const uint64_t init_size = field<uint32_t>(image, 0x260);
    const uint64_t pref_address = field<uint64_t>(image, 0x258);
    // The decompressor works in place up to init_size from the preferred address.
    const uint64_t need_end = std::max(layout::kHighMemStart + kernel.size(),
                                       std::max(pref_address, layout::kHighMemStart) + init_size);
    if (need_end > mem.low_ram_end()) {
        return Err(Error::msg("bzImage needs guest RAM up to " + hex(need_end) + ", have " +
                              hex(mem.low_ram_end())));
    }
    RUNVM_TRY(mem.write(layout::kHighMemStart, kernel));

    std::memcpy(k.setup_header->data(), image.data() + kSetupHeaderOffset, k.setup_header->size());
    k.load_addr = layout::kHighMemStart;
    k.entry = layout::kHighMemStart + 0x200;
    k.end = need_end;
    k.mode = EntryMode::long64;
    k.initrd_addr_max = field<uint32_t>(image, 0x22c);
    return k;
}

} // namespace runvm::vmm::x86_64
