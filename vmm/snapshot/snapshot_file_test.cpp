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
    s.memory_bytes = 256 << 20;
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

// Every device field set to something other than its default.
DevicesState sample_devices() {
    DevicesState d;
    d.serial = {.ier = 3,
                .lcr = 0x1b,
                .mcr = 0x0b,
                .scr = 0x5a,
                .dll = 1,
                .dlm = 2,
                .thr_empty_pending = true,
                .irq_asserted = true,
                .rx = {'a', 'b', 'c'}};
    d.i8042 = {.ctr = 0x47, .status = 0x0c, .expect_ctr = true, .output = {0x55}};
    d.boot_timer.fired = true;
    for (uint32_t i = 0; i < 2; ++i) {
        TransportState t{.device_id = 19 + i,
                         .status = 15,
                         .device_features_sel = 1,
                         .driver_features_sel = 1,
                         .driver_features = 1ull << 32,
                         .queue_sel = i,
                         .interrupt_status = 1,
                         .config_generation = 7 + i,
                         .activated = true,
                         .queues = {}};
        for (uint16_t q = 0; q < 3; ++q) {
            t.queues.push_back({.max_size = 256,
                                .size = static_cast<uint16_t>(64 << q),
                                .ready = q != 1,
                                .desc = 0x10000ull * q + 1,
                                .driver = 0x20000ull * q + 2,
                                .device = 0x30000ull * q + 3,
                                .next_avail = static_cast<uint16_t>(q != 1 ? 40000 + q : 0)});
        }
        d.transports.push_back(std::move(t));
    }
    return d;
}

// The devices section is the file's last before the trailer; without transports, rx or
// output it is 24 bytes (serial 12, i8042 7, boot timer 1, transport count 4).
size_t devices_offset(const Snapshot& s) {
    Snapshot bare = s;
    bare.devices = {};
    return encode_snapshot(bare).size() - 8 - 24;
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
    bytes[8] = 1; // version 1 had no RAM size and no devices
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: version 1 (this runvm-vmm reads 3)");
    bytes[8] = 2; // version 2 had no ring positions
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: version 2 (this runvm-vmm reads 3)");
    bytes = good;
    std::memset(bytes.data() + 12, 0, 4); // vcpu count
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: vcpu count 0 (want 1 to 256)");
    bytes = good;
    bytes[12] = 2; // two vcpus announced, one there
    reseal(bytes);
    // The second vCPU starts in the devices' bytes and runs out inside its fixed structs.
    BOOST_TEST(decode_error(bytes).find("snapshot: vcpu ") == 0, decode_error(bytes));
    BOOST_TEST(decode_error(bytes).find(": truncated") != std::string::npos);
    bytes = good;
    const uint64_t odd_memory = (2 << 20) + 4096;
    std::memcpy(bytes.data() + 16, &odd_memory, 8);
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: memory bytes at offset 16: 2101248 (want a "
                                      "non-zero multiple of 2 MiB, at most 1 TiB)");
    // The first vCPU's CPUID count, just after the RAM size and the VM's structs.
    const size_t cpuid_at =
        24 + 3 * sizeof(kvm_irqchip) + sizeof(kvm_pit_state2) + sizeof(kvm_clock_data);
    bytes = good;
    const uint32_t huge = 5000;
    std::memcpy(bytes.data() + cpuid_at, &huge, 4);
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: vcpu cpuid at offset " + std::to_string(cpuid_at) +
                                          ": 5000 entries (at most 4096)");
    bytes = good;
    std::memset(bytes.data() + 24, 0xff, 4); // pic_master's chip_id
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: pic_master: chip_id 4294967295 (want 0)");
    bytes = good;
    bytes.insert(bytes.end() - 8, {1, 2, 3});
    reseal(bytes);
    BOOST_TEST(decode_error(bytes).find("snapshot: 3 bytes after the devices at offset ") == 0,
               decode_error(bytes));
    auto bad_xcrs = sample(1);
    bad_xcrs.vcpus[0].xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
    BOOST_TEST(decode_error(encode_snapshot(bad_xcrs)) ==
               "snapshot: vcpu 0 xcrs: nr_xcrs 17 (at most 16)");
}

BOOST_AUTO_TEST_CASE(devices_round_trip_field_by_field) {
    Snapshot s = sample(1);
    s.devices = sample_devices();
    const auto bytes = encode_snapshot(s);
    auto back = decode_snapshot(bytes);
    BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().str()));
    BOOST_TEST(back->memory_bytes == uint64_t{256} << 20);
    BOOST_TEST((back->devices == s.devices));
    BOOST_TEST((encode_snapshot(*back) == bytes));
    // Field by field: 12 + 3 serial, 7 + 1 i8042, 1, 4, per transport 41 + 31 per queue.
    BOOST_TEST(bytes.size() - 8 - devices_offset(s) == 24u + 3 + 1 + 2 * (41 + 3 * 31));
}

BOOST_AUTO_TEST_CASE(damaged_devices_are_refused_naming_what) {
    Snapshot s = sample(1);
    s.devices = sample_devices();
    const auto good = encode_snapshot(s);
    const size_t at = devices_offset(s);

    auto bytes = good;
    bytes[at + 6] = 2; // serial thr_empty_pending, a bool
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: serial thr_empty_pending at offset " +
                                          std::to_string(at + 6) + ": 2 (want 0 or 1)");
    // Cut inside the last queue: every length is checked before it is read.
    for (const size_t cut : {size_t{1}, size_t{9}, size_t{29}, size_t{200}}) {
        bytes = good;
        bytes.erase(bytes.end() - 8 - static_cast<std::ptrdiff_t>(cut), bytes.end() - 8);
        reseal(bytes);
        // Either the queue count is found larger than what is left, or a field runs out.
        const std::string e = decode_error(bytes);
        BOOST_TEST((e.find(": truncated") != std::string::npos ||
                    e.find(" bytes left)") != std::string::npos),
                   e);
    }

    Snapshot bad = sample(1);
    bad.devices.serial.rx.assign(kMaxSerialRxBytes + 1, 'x');
    BOOST_TEST(decode_error(encode_snapshot(bad)) == "snapshot: serial rx at offset " +
                                                         std::to_string(devices_offset(bad) + 8) +
                                                         ": 4097 entries (at most 4096)");
    bad = sample(1);
    bad.devices.i8042.output.assign(kMaxI8042OutputBytes + 1, 0);
    BOOST_TEST(decode_error(encode_snapshot(bad)).find("snapshot: i8042 output at offset ") == 0);
    bad = sample(1);
    bad.devices.transports.resize(kMaxTransports + 1);
    BOOST_TEST(decode_error(encode_snapshot(bad)) == "snapshot: transport count at offset " +
                                                         std::to_string(devices_offset(bad) + 20) +
                                                         ": 65 (at most 64)");
    bad = sample(1);
    bad.devices = sample_devices();
    bad.devices.transports[0].queues.resize(kMaxTransportQueues + 1);
    BOOST_TEST(decode_error(encode_snapshot(bad)).find("snapshot: transport queue count at ") == 0);
    bad = sample(1);
    bad.devices = sample_devices();
    bad.devices.transports[1].queues[2].size = 96; // not a power of two
    BOOST_TEST(decode_error(encode_snapshot(bad)).find("snapshot: queue size at offset ") == 0);
    bad.devices.transports[1].queues[2].size = 512; // above max_size
    BOOST_TEST(decode_error(encode_snapshot(bad)).find(": 512 (max 256, ready)") !=
               std::string::npos);
    bad.devices.transports[1].queues[2].size = 0; // ready with no size
    BOOST_TEST(decode_error(encode_snapshot(bad)).find(": 0 (max 256, ready)") !=
               std::string::npos);
    bad = sample(1);
    bad.devices = sample_devices();
    bad.devices.transports[1].queues[2].ready = false; // a ring position without a ring
    {
        const std::vector<uint8_t> b = encode_snapshot(bad);
        const size_t next_avail_at = b.size() - 8 - 2;
        BOOST_TEST(decode_error(b) == "snapshot: queue next_avail at offset " +
                                          std::to_string(next_avail_at) +
                                          ": 40002 on a queue that is not ready");
    }

    // A queue count larger than the bytes left is refused before anything is allocated.
    bytes = good;
    const size_t queue_count_at = good.size() - 8 - 3 * 31 - 4;
    const uint32_t many = 1000;
    std::memcpy(bytes.data() + queue_count_at, &many, 4);
    reseal(bytes);
    BOOST_TEST(decode_error(bytes) == "snapshot: transport queue count at offset " +
                                          std::to_string(queue_count_at) +
                                          ": 1000 (at most 1024, 93 bytes left)");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::vmm::snapshot
