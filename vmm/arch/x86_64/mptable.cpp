// MP table construction (Intel MP spec 1.4, as Linux's mpparse.c reads it).
#include "vmm/arch/x86_64/mptable.hpp"

#include <cstring>
#include <vector>

namespace runvm::vmm::x86_64 {

namespace {

template <typename T>
void append(std::vector<uint8_t>& out, const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

} // namespace

uint8_t mp_checksum(const uint8_t* p, uint64_t len) {
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; ++i) {
        sum = static_cast<uint8_t>(sum + p[i]);
    }
    return sum;
}

uint64_t mptable_size(uint32_t vcpus) {
    return sizeof(MpfIntel) + sizeof(MpcTable) + vcpus * sizeof(MpcCpu) + sizeof(MpcBus) +
           sizeof(MpcIoapic) + (layout::kIrqMax + 1) * sizeof(MpcIntsrc) + 2 * sizeof(MpcIntsrc);
}

Result<void> write_mptable(GuestMemory& mem, uint32_t vcpus) {
    if (vcpus == 0 || vcpus > kMaxVcpus) {
        return Err(Error::msg("mptable: " + std::to_string(vcpus) + " vCPUs (want 1.." +
                              std::to_string(kMaxVcpus) + ")"));
    }
    const auto ioapic_id = static_cast<uint8_t>(vcpus + 1);
    const uint64_t table_addr = layout::kEbdaStart + sizeof(MpfIntel);

    std::vector<uint8_t> entries;
    for (uint32_t id = 0; id < vcpus; ++id) {
        MpcCpu cpu{};
        cpu.type = 0;
        cpu.apicid = static_cast<uint8_t>(id);
        cpu.apicver = kApicVersion;
        cpu.cpuflag = static_cast<uint8_t>(kCpuEnabled | (id == 0 ? kCpuBootProcessor : 0));
        cpu.cpufeature = 0x600;        // family 6
        cpu.featureflag = 0x200 | 0x1; // APIC, FPU
        append(entries, cpu);
    }
    MpcBus bus{1, 0, {'I', 'S', 'A', ' ', ' ', ' '}};
    append(entries, bus);
    MpcIoapic ioapic{2, ioapic_id, kApicVersion, 1, static_cast<uint32_t>(layout::kIoapicAddr)};
    append(entries, ioapic);
    for (uint32_t irq = 0; irq <= layout::kIrqMax; ++irq) {
        // irqflag 0: polarity and trigger conform to the bus, i.e. ISA edge/active-high.
        MpcIntsrc src{
            3, kMpIrqInt, 0, 0, static_cast<uint8_t>(irq), ioapic_id, static_cast<uint8_t>(irq)};
        append(entries, src);
    }
    append(entries, MpcIntsrc{4, kMpIrqExtInt, 0, 0, 0, 0, 0}); // LINT0 of every LAPIC
    append(entries, MpcIntsrc{4, kMpIrqNmi, 0, 0, 0, 0xff, 1}); // LINT1 of every LAPIC

    MpcTable table{};
    std::memcpy(table.signature, "PCMP", 4);
    table.length = static_cast<uint16_t>(sizeof(MpcTable) + entries.size());
    table.spec = 4;
    std::memcpy(table.oem, "RUNVM   ", 8);
    std::memcpy(table.productid, "RUNVM-VMM   ", 12);
    table.oemcount = static_cast<uint16_t>(vcpus + 2 + (layout::kIrqMax + 1) + 2);
    table.lapic = static_cast<uint32_t>(layout::kLapicAddr);
    std::vector<uint8_t> bytes;
    append(bytes, table);
    bytes.insert(bytes.end(), entries.begin(), entries.end());
    bytes[offsetof(MpcTable, checksum)] =
        static_cast<uint8_t>(-mp_checksum(bytes.data(), bytes.size()));

    MpfIntel mpf{};
    std::memcpy(mpf.signature, "_MP_", 4);
    mpf.physptr = static_cast<uint32_t>(table_addr);
    mpf.length = 1;
    mpf.specification = 4;
    mpf.checksum =
        static_cast<uint8_t>(-mp_checksum(reinterpret_cast<const uint8_t*>(&mpf), sizeof mpf));

    if (layout::kEbdaStart + mptable_size(vcpus) > 0xa0000) {
        return Err(Error::msg("mptable: does not fit below 640 KiB"));
    }
    RUNVM_TRY(mem.write_obj(layout::kEbdaStart, mpf));
    RUNVM_TRY(mem.write(table_addr, bytes));
    return Ok();
}

} // namespace runvm::vmm::x86_64
