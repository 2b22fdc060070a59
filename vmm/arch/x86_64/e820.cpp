// e820 map from the guest-physical layout.
#include "vmm/arch/x86_64/e820.hpp"

#include "vmm/memory/layout.hpp"

namespace runvm::vmm::x86_64 {

std::vector<E820Entry> e820_map(uint64_t ram_bytes) {
    std::vector<E820Entry> map;
    for (const auto& r : layout::ram_regions(ram_bytes)) {
        if (r.gpa == 0) {
            map.push_back({0, layout::kEbdaStart, kE820Ram});
            if (r.size > layout::kHighMemStart) {
                map.push_back({layout::kHighMemStart, r.size - layout::kHighMemStart, kE820Ram});
            }
        } else {
            map.push_back({r.gpa, r.size, kE820Ram});
        }
    }
    return map;
}

} // namespace runvm::vmm::x86_64
