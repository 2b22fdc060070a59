// What a kernel loader leaves behind: where it went, where to enter, and the setup header
// to start boot_params from.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

enum class EntryMode { long64, real16 };

struct LoadedKernel {
    uint64_t entry = 0;     // guest-physical address of the first instruction
    uint64_t load_addr = 0; // lowest byte written
    uint64_t end = 0;       // one past the highest byte the kernel may use
    EntryMode mode = EntryMode::long64;
    // bzImage only: bytes 0x1f1.. of the image (the setup header) for boot_params.
    std::optional<std::array<uint8_t, 0x290 - 0x1f1>> setup_header;
    uint64_t initrd_addr_max = 0x7fffffff;
};

enum class KernelFormat { elf, bzimage, raw16, raw64 };

// Sniffs ELF magic or the bzImage "HdrS" signature.
Result<KernelFormat> detect_kernel_format(std::span<const uint8_t> image);

// A flat binary at layout::kRawImageAddr, entered there in 16-bit real or 64-bit mode.
Result<LoadedKernel> load_raw(GuestMemory& mem, std::span<const uint8_t> image, EntryMode mode);

} // namespace runvm::vmm::x86_64
