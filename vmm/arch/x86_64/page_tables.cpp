// Boot page tables in guest memory.
#include "vmm/arch/x86_64/page_tables.hpp"

#include <array>

namespace runvm::vmm::x86_64 {

Result<uint64_t> write_identity_page_tables(GuestMemory& mem) {
    constexpr uint64_t flags = kPtePresent | kPteWritable;
    std::array<uint64_t, 512> table{};
    table[0] = layout::kPdptAddr | flags;
    RUNVM_TRY(mem.write_obj(layout::kPml4Addr, table));

    table.fill(0);
    for (uint64_t i = 0; i < 4; ++i) {
        table[i] = (layout::kPdAddr + i * 0x1000) | flags;
    }
    RUNVM_TRY(mem.write_obj(layout::kPdptAddr, table));

    for (uint64_t pd = 0; pd < 4; ++pd) {
        for (uint64_t i = 0; i < 512; ++i) {
            table[i] = (((pd << 9) + i) << 21) | flags | kPteHuge;
        }
        RUNVM_TRY(mem.write_obj(layout::kPdAddr + pd * 0x1000, table));
    }
    return layout::kPml4Addr;
}

} // namespace runvm::vmm::x86_64
