// Identity-mapped page tables for entering 64-bit mode: the first 4 GiB in 2 MiB pages.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::x86_64 {

inline constexpr uint64_t kPtePresent = 1u << 0;
inline constexpr uint64_t kPteWritable = 1u << 1;
inline constexpr uint64_t kPteHuge = 1u << 7;
inline constexpr uint64_t kIdentityMappedBytes = 4ull << 30;

// Writes PML4, PDPT and four PDs at their layout addresses; returns the CR3 value.
Result<uint64_t> write_identity_page_tables(GuestMemory& mem);

} // namespace runvm::vmm::x86_64
