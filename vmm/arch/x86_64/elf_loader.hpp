// Loads an ELF64 vmlinux by its PT_LOAD program headers and enters it at e_entry in
// 64-bit mode, as Firecracker does.
#pragma once

#include "vmm/arch/x86_64/kernel_image.hpp"

namespace runvm::vmm::x86_64 {

Result<LoadedKernel> load_elf(GuestMemory& mem, std::span<const uint8_t> image);

} // namespace runvm::vmm::x86_64
