// Loads a bzImage per the Linux x86 boot protocol (2.12+): the protected-mode part at
// 1 MiB, entered at its 64-bit entry point (load address + 0x200).
#pragma once

#include "vmm/arch/x86_64/kernel_image.hpp"

namespace runvm::vmm::x86_64 {

inline constexpr uint64_t kSetupHeaderOffset = 0x1f1;
inline constexpr uint32_t kHdrSMagic = 0x53726448;   // "HdrS"
inline constexpr uint16_t kMinBootProtocol = 0x020c; // xloadflags, 64-bit entry
inline constexpr uint16_t kXlfKernel64 = 1u << 0;

Result<LoadedKernel> load_bzimage(GuestMemory& mem, std::span<const uint8_t> image);

} // namespace runvm::vmm::x86_64
