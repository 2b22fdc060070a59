// The snapshot format: a round trip keeps every byte; each kind of damage is refused with
// the field and offset named.
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "vmm/snapshot/snapshot_file.hpp"

namespace runvm::vmm::snapshot {

namespace {

template <typename T>
void pattern(T& value, uint8_t seed) {
    auto* p = reinterpret_cast<uint8_t*>(&value);
    for (size_t i = 0; i < sizeof(T); ++i) {
        p[i] = static_cast<uint8_t>(seed + i * 7);
    }
}

Snapshot sample(uint32_t vcpus) {
    Snapshot s;
    pattern(s.vm.pic_master, 1);
    pattern(s.vm.pic_slave, 2);
    pattern(s.vm.ioapic, 3);
    s.vm.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s.vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s.vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    pattern(s.vm.pit, 4);
    pattern(s.vm.clock, 5);
    for (uint32_t i = 0; i < vcpus; ++i) {
        VcpuState v;
        v.cpuid.resize(3 + i);
        for (auto& e : v.cpuid) {
            pattern(e, static_cast<uint8_t>(10 + i));
        }
        pattern(v.mp_state, 11);
        v.mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
        pattern(v.regs, 12);
        pattern(v.sregs, 13);
        pattern(v.xsave, 14);
        pattern(v.xcrs, 15);
        v.xcrs.nr_xcrs = 1;
        pattern(v.debugregs, 16);
        pattern(v.lapic, 17);
        v.msrs.resize(40);
        for (auto& m : v.msrs) {
            pattern(m, 18);
        }
        pattern(v.events, 19);
        s.vcpus.push_back(std::move(v));
    }
    return s;
}

// After an edit, the trailer again: so a test reaches the check after the checksum.
void reseal(std::vector<uint8_t>& bytes) {
    const uint64_t sum = snapshot_checksum(std::span(bytes).first(bytes.size() - 8));
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
}

std::string decode_error(const std::vector<uint8_t>& bytes) {
    auto r = decode_snapshot(bytes);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().code() == EINVAL);
    return r.error().message();
}

} // namespace

BOOST_AUTO_TEST_SUITE(snapshot_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_byte) {
    const auto bytes = encode_snapshot(sample(2));
    auto back = decode_snapshot(bytes);
    BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().str()));
    BOOST_TEST(back->vcpus.size() == 2u);
    BOOST_TEST(back->vcpus[1].cpuid.size() == 4u);
    BOOST_TEST(back->vcpus[0].msrs.size() == 40u);
    BOOST_TEST((encode_snapshot(*back) == bytes));
}

BOOST_AUTO_TEST_CASE(damage_is_refused_naming_what) {
    const auto good = encode_snapshot(sample(1));
    auto bytes = good;
    bytes[100] ^= 1;
    BOOST_TEST(decode_error(bytes) ==
               "snapshot: checksum mismatch: the file is corrupt or truncated");
    bytes = good;
    bytes.resize(bytes.size() - 1);
    BOOST_TEST(decode_error(bytes).find("checksum mismatch") != std::string::npos);
    bytes = good;
    bytes[0] = 'X';
    BOOST_TEST(decode_error(bytes) == "snapshot: not a runvm snapshot (no RUNVMSNP header)");
    bytes = good;
    bytes[8] = 2; // version
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: version 2 (this runvm-vmm reads 1)");
    bytes = good;
    std::memset(bytes.data() + 12, 0, 4); // vcpu count
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: vcpu count 0 (want 1 to 256)");
    bytes = good;
    bytes[12] = 2; // two vcpus announced, one there
    reseal(bytes);
    BOOST_TEST(decode_error(bytes).find("snapshot: vcpu cpuid at offset ") == 0,
               decode_error(bytes));
    BOOST_TEST(decode_error(bytes).find(": truncated") != std::string::npos);
    // The first vCPU's CPUID count, just after the VM's structs.
    const size_t cpuid_at =
        16 + 3 * sizeof(kvm_irqchip) + sizeof(kvm_pit_state2) + sizeof(kvm_clock_data);
    bytes = good;
    const uint32_t huge = 5000;
    std::memcpy(bytes.data() + cpuid_at, &huge, 4);
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: vcpu cpuid at offset " + std::to_string(cpuid_at) +
                                          ": 5000 entries (at most 4096)");
    bytes = good;
    std::memset(bytes.data() + 16, 0xff, 4); // pic_master's chip_id
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: pic_master: chip_id 4294967295 (want 0)");
    bytes = good;
    bytes.insert(bytes.end() - 8, {1, 2, 3});
    reseal(bytes);
    BOOST_TEST(decode_error(bytes).find("snapshot: 3 bytes after the last vcpu at offset ") == 0,
               decode_error(bytes));
    auto bad_xcrs = sample(1);
    bad_xcrs.vcpus[0].xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
    BOOST_TEST(decode_error(encode_snapshot(bad_xcrs)) ==
               "snapshot: vcpu 0 xcrs: nr_xcrs 17 (at most 16)");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::vmm::snapshot
