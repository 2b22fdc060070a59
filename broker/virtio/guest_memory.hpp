// GuestMemory: the frontend's memory regions, mapped here, with bounds-checked translation
// of guest-physical and frontend-virtual addresses to host pointers.
#pragma once

#include <cstdint>
#include <vector>

#include "base/mapping.hpp"
#include "base/result.hpp"

namespace runvm::broker {

struct MemoryRegion {
    uint64_t guest_phys_addr = 0;
    uint64_t size = 0;
    uint64_t user_addr = 0;  // the frontend's own virtual address of the region (vring addrs)
    uint8_t* host = nullptr; // first byte of the region in this process
};

class GuestMemory {
public:
    GuestMemory() = default;
    GuestMemory(GuestMemory&&) = default;
    GuestMemory& operator=(GuestMemory&&) = default;

    // Takes ownership of a mapping that holds [mapping_offset, mapping_offset + size) of the
    // region. Refuses empty regions, address overflow and overlap with an earlier region
    // (guest-physical or user range).
    Result<void> add_region(uint64_t guest_phys_addr, uint64_t size, uint64_t user_addr,
                            Mapping mapping, uint64_t mapping_offset);

    // Host pointer to [gpa, gpa + len) when it lies wholly inside one region, else nullptr.
    uint8_t* translate(uint64_t gpa, uint64_t len) const;
    // The same for a frontend virtual address (vhost-user vring addresses).
    uint8_t* translate_user(uint64_t uva, uint64_t len) const;
    // Guest-physical address of a frontend virtual address, when mapped.
    bool user_to_guest(uint64_t uva, uint64_t* gpa) const;

    const std::vector<MemoryRegion>& regions() const { return regions_; }
    bool empty() const { return regions_.empty(); }

private:
    std::vector<MemoryRegion> regions_;
    std::vector<Mapping> mappings_;
};

// True when [addr, addr + len) lies inside [base, base + size), without overflow.
inline bool range_inside(uint64_t addr, uint64_t len, uint64_t base, uint64_t size) {
    return addr >= base && len <= size && addr - base <= size - len;
}

} // namespace runvm::broker
