// Guest RAM regions around the 32-bit MMIO gap.
#include "vmm/memory/layout.hpp"

#include <algorithm>

namespace runvm::vmm::layout {

std::vector<RamRegion> ram_regions(uint64_t ram_bytes) {
    std::vector<RamRegion> regions;
    const uint64_t low = std::min(ram_bytes, kMmioGapStart);
    regions.push_back({0, low, 0});
    if (ram_bytes > low) {
        regions.push_back({kMmioGapEnd, ram_bytes - low, low});
    }
    return regions;
}

} // namespace runvm::vmm::layout
