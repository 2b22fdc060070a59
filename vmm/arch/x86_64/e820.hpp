// The e820 memory map handed to Linux in boot_params.
#pragma once

#include <cstdint>
#include <vector>

namespace runvm::vmm::x86_64 {

inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;

struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

// RAM below the EBDA, RAM from 1 MiB to the gap, RAM above 4 GiB; the EBDA (MP table)
// and the legacy hole are left out, so Linux never allocates them.
std::vector<E820Entry> e820_map(uint64_t ram_bytes);

} // namespace runvm::vmm::x86_64
