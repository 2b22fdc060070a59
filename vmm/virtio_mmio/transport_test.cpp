// The virtio-mmio state machine driven by a test driver that follows virtio 1.1 4.2.3,
// with a fake backend standing in for the broker.
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "vmm/virtio_mmio/transport.hpp"

using namespace runvm;
using namespace runvm::vmm;
using namespace runvm::vmm::virtio_mmio;

namespace {

struct FakeBackend : Backend {
    uint64_t features = (1ull << 0) | (1ull << 33);
    std::vector<uint8_t> config = {1, 2, 3, 4, 5, 6, 7, 8};
    int activations = 0, resets = 0;
    bool fail_activate = false;
    uint64_t activated_features = 0;
    std::vector<QueueConfig> activated_queues;
    std::vector<uint16_t> notified;

    uint32_t device_id() const override { return 19; }
    uint64_t device_features() const override { return features; }
    uint16_t num_queues() const override { return 2; }
    uint16_t queue_max_size() const override { return 256; }
    void read_config(uint64_t off, std::span<uint8_t> d) override {
        std::memset(d.data(), 0, d.size());
        if (off < config.size() && d.size() <= config.size() - off) {
            std::memcpy(d.data(), config.data() + off, d.size());
        }
    }
    void write_config(uint64_t off, std::span<const uint8_t> d) override {
        if (off < config.size() && d.size() <= config.size() - off) {
            std::memcpy(config.data() + off, d.data(), d.size());
        }
    }
    Result<void> activate(uint64_t f, const std::vector<QueueConfig>& q) override {
        if (fail_activate) {
            return Err(Error::msg("backend says no"));
        }
        ++activations;
        activated_features = f;
        activated_queues = q;
        return Ok();
    }
    void reset() override { ++resets; }
    void notify(uint16_t q) override { notified.push_back(q); }
    bool interrupts_bypass_transport() const override { return true; }
};

struct CountingIrq : IrqLine {
    int edges = 0;
    void trigger() override { ++edges; }
};

struct Driver {
    Transport& t;
    uint32_t rd(uint64_t off) {
        uint32_t v = 0;
        t.read(off, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
    void wr(uint64_t off, uint32_t v) {
        t.write(off, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    }
    void setup_queue(uint32_t index, uint32_t size, uint64_t base) {
        wr(reg::kQueueSel, index);
        wr(reg::kQueueNum, size);
        wr(reg::kQueueDescLow, static_cast<uint32_t>(base));
        wr(reg::kQueueDescHigh, static_cast<uint32_t>(base >> 32));
        wr(reg::kQueueDriverLow, static_cast<uint32_t>(base + 0x1000));
        wr(reg::kQueueDriverHigh, 0);
        wr(reg::kQueueDeviceLow, static_cast<uint32_t>(base + 0x2000));
        wr(reg::kQueueDeviceHigh, 0);
        wr(reg::kQueueReady, 1);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(identification_registers) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    Driver d{t};
    BOOST_TEST(d.rd(reg::kMagicValue) == kMagic);
    BOOST_TEST(d.rd(reg::kVersion) == 2u);
    BOOST_TEST(d.rd(reg::kDeviceId) == 19u);
    BOOST_TEST(d.rd(reg::kVendorId) == kVendorRunvm);
    BOOST_TEST(d.rd(reg::kShmLenLow) == 0xffffffffu);
    // Narrow or unaligned accesses to the register block read as 0 and change nothing.
    uint8_t b = 0xaa;
    t.read(reg::kMagicValue, std::span(&b, 1));
    BOOST_TEST(b == 0);
}

BOOST_AUTO_TEST_CASE(feature_negotiation_and_driver_ok) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    Driver d{t};
    d.wr(reg::kStatus, status::kAcknowledge);
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    d.wr(reg::kDeviceFeaturesSel, 0);
    BOOST_TEST(d.rd(reg::kDeviceFeatures) == 1u);
    d.wr(reg::kDeviceFeaturesSel, 1);
    BOOST_TEST(d.rd(reg::kDeviceFeatures) == 3u); // bit 33 and VERSION_1 (bit 32)
    d.wr(reg::kDriverFeaturesSel, 0);
    d.wr(reg::kDriverFeatures, 0xffffffff); // takes only what is offered
    d.wr(reg::kDriverFeaturesSel, 1);
    d.wr(reg::kDriverFeatures, 1);
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kFeaturesOk);
    BOOST_TEST((d.rd(reg::kStatus) & status::kFeaturesOk) != 0u);

    BOOST_TEST(d.rd(reg::kQueueNumMax) == 256u);
    d.setup_queue(0, 128, 0x100000);
    d.setup_queue(1, 64, 0x200000);
    d.wr(reg::kQueueSel, 5);
    BOOST_TEST(d.rd(reg::kQueueNumMax) == 0u); // no such queue
    BOOST_TEST(backend.activations == 0);
    d.wr(reg::kQueueNotify, 0); // before DRIVER_OK: ignored
    BOOST_TEST(backend.notified.empty());

    d.wr(reg::kStatus,
         status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    BOOST_REQUIRE(backend.activations == 1);
    BOOST_TEST(backend.activated_features == (1ull | (1ull << 32)));
    BOOST_REQUIRE(backend.activated_queues.size() == 2u);
    BOOST_TEST(backend.activated_queues[0].size == 128);
    BOOST_TEST(backend.activated_queues[0].desc == 0x100000u);
    BOOST_TEST(backend.activated_queues[0].driver == 0x101000u);
    BOOST_TEST(backend.activated_queues[0].device == 0x102000u);
    BOOST_TEST(backend.activated_queues[1].ready);
    BOOST_TEST(t.activated());

    // After DRIVER_OK queue registers are frozen.
    d.wr(reg::kQueueSel, 0);
    d.wr(reg::kQueueNum, 16);
    BOOST_TEST(t.queues()[0].size == 128);

    d.wr(reg::kQueueNotify, 1);
    d.wr(reg::kQueueNotify, 7); // out of range: dropped
    BOOST_TEST(backend.notified == std::vector<uint16_t>({1}));

    // irqfd interrupts bypass the transport, so "used buffer" always reads as set.
    BOOST_TEST(d.rd(reg::kInterruptStatus) == kInterruptVring);
    d.wr(reg::kInterruptAck, kInterruptVring);
    BOOST_TEST(d.rd(reg::kInterruptStatus) == kInterruptVring);

    d.wr(reg::kStatus, 0); // reset
    BOOST_TEST(backend.resets == 1);
    BOOST_TEST(d.rd(reg::kStatus) == 0u);
    BOOST_TEST(!t.activated());
    BOOST_TEST(!t.queues()[0].ready);
    BOOST_TEST(d.rd(reg::kInterruptStatus) == 0u);
}

BOOST_AUTO_TEST_CASE(legacy_driver_cannot_set_features_ok) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    Driver d{t};
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    d.wr(reg::kDriverFeaturesSel, 0);
    d.wr(reg::kDriverFeatures, 1); // no VERSION_1
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kFeaturesOk);
    BOOST_TEST((d.rd(reg::kStatus) & status::kFeaturesOk) == 0u);
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kDriverOk);
    BOOST_TEST(backend.activations == 0);
}

BOOST_AUTO_TEST_CASE(queue_size_and_status_rules) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    Driver d{t};
    d.wr(reg::kQueueSel, 0);
    d.wr(reg::kQueueNum, 100); // not a power of two
    BOOST_TEST(t.queues()[0].size == 0);
    d.wr(reg::kQueueNum, 512); // above the maximum
    BOOST_TEST(t.queues()[0].size == 0);
    d.wr(reg::kQueueReady, 1); // no size yet: stays not ready
    BOOST_TEST(d.rd(reg::kQueueReady) == 0u);
    d.wr(reg::kQueueNum, 256);
    d.wr(reg::kQueueReady, 1);
    BOOST_TEST(d.rd(reg::kQueueReady) == 1u);
    d.wr(reg::kQueueDescLow, 0x1234); // ready queue: frozen
    BOOST_TEST(t.queues()[0].desc == 0u);
    d.wr(reg::kStatus, status::kAcknowledge);
    d.wr(reg::kStatus, status::kDriver); // clears a bit: ignored
    BOOST_TEST(d.rd(reg::kStatus) == status::kAcknowledge);
}

BOOST_AUTO_TEST_CASE(config_space_is_forwarded) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    uint8_t b[4] = {};
    t.read(reg::kConfig + 2, std::span(b, 2));
    BOOST_TEST(b[0] == 3);
    BOOST_TEST(b[1] == 4);
    uint8_t w[2] = {9, 9};
    t.write(reg::kConfig + 6, std::span(w, 2));
    BOOST_TEST(backend.config[6] == 9);
    t.read(reg::kConfig + 7, std::span(b, 4)); // past the end: zeros
    BOOST_TEST(b[0] == 0);
}

BOOST_AUTO_TEST_CASE(failed_activation_needs_reset) {
    FakeBackend backend;
    backend.fail_activate = true;
    CountingIrq irq;
    Transport t(backend, &irq);
    Driver d{t};
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    d.wr(reg::kDriverFeaturesSel, 1);
    d.wr(reg::kDriverFeatures, 1);
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kFeaturesOk);
    d.wr(reg::kStatus,
         status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    BOOST_TEST((d.rd(reg::kStatus) & status::kNeedsReset) != 0u);
    BOOST_TEST(d.rd(reg::kInterruptStatus) == kInterruptConfig);
    BOOST_TEST(irq.edges == 1);
    BOOST_TEST(!t.activated());
}

BOOST_AUTO_TEST_CASE(state_round_trips_and_is_checked_against_the_device) {
    FakeBackend backend;
    Transport t(backend, nullptr);
    Driver d{t};
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    d.wr(reg::kDeviceFeaturesSel, 1);
    d.wr(reg::kDriverFeaturesSel, 1);
    d.wr(reg::kDriverFeatures, 1);
    d.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kFeaturesOk);
    d.setup_queue(1, 64, 0x123450000ull);
    const snapshot::TransportState saved = t.save_state();
    BOOST_TEST(saved.device_id == 19u);
    BOOST_TEST(saved.queue_sel == 1u);
    BOOST_TEST(saved.driver_features == kFeatureVersion1);
    BOOST_TEST(saved.queues.size() == 2u);
    BOOST_TEST(saved.queues[1].ready);
    BOOST_TEST(saved.queues[1].desc == 0x123450000ull);

    // A second transport in front of the same kind of device (the original never activated).
    Transport restored(backend, nullptr);
    auto r = restored.restore_state(saved);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    BOOST_TEST((restored.save_state() == saved));
    Driver d2{restored};
    BOOST_TEST(d2.rd(reg::kQueueReady) == 1u); // queue 1 still selected
    BOOST_TEST(d2.rd(reg::kStatus) ==
               (status::kAcknowledge | status::kDriver | status::kFeaturesOk));
    d2.wr(reg::kStatus,
          status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    BOOST_TEST(backend.activations == 1);
    BOOST_TEST(backend.activated_queues[1].size == 64);
    BOOST_TEST(backend.activated_queues[1].driver == 0x23451000ull); // setup_queue: high half 0

    auto wrong = saved;
    wrong.device_id = 3;
    BOOST_TEST(!restored.restore_state(wrong).ok());
    wrong = saved;
    wrong.queues.pop_back();
    BOOST_TEST(!restored.restore_state(wrong).ok());
    wrong = saved;
    wrong.queues[0].max_size = 1024;
    BOOST_TEST(!restored.restore_state(wrong).ok());
    wrong = saved;
    wrong.queues[1].size = 48; // not a power of two
    BOOST_TEST(!restored.restore_state(wrong).ok());
    wrong = saved;
    wrong.driver_features |= 1ull << 5; // not offered
    auto refused = restored.restore_state(wrong);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().str().find("driver features") != std::string::npos);
    wrong = saved;
    wrong.activated = true; // without DRIVER_OK
    BOOST_TEST(!restored.restore_state(wrong).ok());
}
