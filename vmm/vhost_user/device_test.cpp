// The VMM's vhost-user frontend and virtio-mmio transport against the broker's real blk
// device on a real socket: a software driver in the test programs the device through the
// MMIO registers, places a request in the shared memfd RAM, kicks, and reads the answer.
#include <cstring>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <poll.h>
#include <unistd.h>

#include "broker/devices/blk/device.hpp"
#include "broker/runtime/device_server.hpp"
#include "broker/testing/temp_dir.hpp"
#include "vmm/vhost_user/device.hpp"
#include "vmm/virtio_mmio/transport.hpp"

using namespace runvm;
using namespace runvm::vmm;
using namespace runvm::vmm::virtio_mmio;

namespace {

constexpr uint64_t kDesc = 0x100000, kAvail = 0x101000, kUsed = 0x102000;
constexpr uint64_t kHeader = 0x200000, kData = 0x201000, kStatus = 0x202000;
constexpr uint16_t kNext = 1, kWrite = 2;

#pragma pack(push, 1)
struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct BlkHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
#pragma pack(pop)

template <typename T>
T must(Result<T> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().str()));
    return std::move(r).value();
}
void must(Result<void> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().str()));
}

struct Mmio {
    Transport& t;
    uint32_t rd(uint64_t off) {
        uint32_t v = 0;
        t.read(off, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
    void wr(uint64_t off, uint32_t v) {
        t.write(off, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    }
};

bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// The rest of a driver's probe after ACKNOWLEDGE|DRIVER: accept VERSION_1 only and start
// queue 0 (16 entries at kDesc/kAvail/kUsed), up to DRIVER_OK.
void negotiate_and_start_queue0(Mmio& m) {
    m.wr(reg::kDriverFeaturesSel, 1);
    m.wr(reg::kDriverFeatures, 1);
    m.wr(reg::kStatus, status::kAcknowledge | status::kDriver | status::kFeaturesOk);
    BOOST_REQUIRE((m.rd(reg::kStatus) & status::kFeaturesOk) != 0u);
    m.wr(reg::kQueueSel, 0);
    m.wr(reg::kQueueNum, 16);
    m.wr(reg::kQueueDescLow, kDesc);
    m.wr(reg::kQueueDriverLow, kAvail);
    m.wr(reg::kQueueDeviceLow, kUsed);
    m.wr(reg::kQueueReady, 1);
    m.wr(reg::kStatus,
         status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    BOOST_REQUIRE(m.t.activated());
}

} // namespace

BOOST_AUTO_TEST_CASE(blk_read_through_vhost_user) {
    auto dir = must(broker::testing::TempDir::create("vmm-vhost-user"));
    const std::string image = dir.file("disk.img");
    std::string sector0 = "runvm sector zero";
    sector0.resize(512, '.');
    {
        std::ofstream f(image, std::ios::binary);
        f << sector0 << std::string(1024 * 1024 - 512, '\0');
    }
    broker::blk::BlkOptions options;
    options.path = image;
    auto blk = must(broker::blk::BlkDevice::open(options));
    auto server = must(broker::DeviceServer::create(std::move(blk), dir.file("blk.sock")));
    must(server->start());

    auto mem = must(GuestMemory::create(16ull << 20));
    auto device = must(vmm::vhost_user::Device::connect("blk", dir.file("blk.sock"), mem, 2000));
    Transport transport(*device, nullptr);
    Mmio m{transport};
    BOOST_TEST(m.rd(reg::kMagicValue) == kMagic);
    BOOST_TEST(m.rd(reg::kDeviceId) == 2u);

    m.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    m.wr(reg::kDeviceFeaturesSel, 1);
    BOOST_TEST((m.rd(reg::kDeviceFeatures) & 1u) == 1u); // VERSION_1
    // Config space comes from the broker by GET_CONFIG: capacity in 512-byte sectors.
    uint64_t capacity = 0;
    transport.read(reg::kConfig, std::span(reinterpret_cast<uint8_t*>(&capacity), 8));
    BOOST_TEST(capacity == 2048u);

    negotiate_and_start_queue0(m);

    // One read request: header (device-readable), data and status (device-writable).
    must(mem.write_obj(kHeader, BlkHeader{0 /* VIRTIO_BLK_T_IN */, 0, 0}));
    must(mem.write_obj(kStatus, uint8_t{0xff}));
    must(mem.write_obj(kDesc + 0 * 16, Desc{kHeader, 16, kNext, 1}));
    must(mem.write_obj(kDesc + 1 * 16, Desc{kData, 512, kNext | kWrite, 2}));
    must(mem.write_obj(kDesc + 2 * 16, Desc{kStatus, 1, kWrite, 0}));
    must(mem.write_obj(kAvail + 4, uint16_t{0})); // ring[0] = head 0
    must(mem.write_obj(kAvail + 2, uint16_t{1})); // idx
    m.wr(reg::kQueueNotify, 0);                   // kick eventfd, as the ioeventfd would in KVM

    BOOST_REQUIRE_MESSAGE(wait_readable(device->call_fd(), 5000), "no call from the broker");
    BOOST_TEST(must(mem.read_obj<uint16_t>(kUsed + 2)) == 1);  // used idx
    BOOST_TEST(must(mem.read_obj<uint32_t>(kUsed + 4)) == 0u); // id: head 0
    BOOST_TEST(must(mem.read_obj<uint32_t>(kUsed + 8)) == 513u);
    BOOST_TEST(must(mem.read_obj<uint8_t>(kStatus)) == 0); // VIRTIO_BLK_S_OK
    BOOST_TEST(std::string(reinterpret_cast<const char*>(mem.host_range(kData, 512)), 512) ==
               sector0);
    BOOST_TEST(m.rd(reg::kInterruptStatus) == kInterruptVring);

    m.wr(reg::kStatus, 0); // reset: GET_VRING_BASE stops the ring in the broker
    BOOST_TEST(!transport.activated());
    server->stop();
}

namespace {

// Driver side of the snapshot test: blk read request `k` (sector k) as descriptors 3k..3k+2,
// published as available entry k.
void add_read(GuestMemory& mem, uint16_t k) {
    const uint64_t header = kHeader + 0x100ull * k, data = kData + 0x200ull * k;
    const uint64_t status = kStatus + k;
    const auto d = static_cast<uint16_t>(3 * k);
    must(mem.write_obj(header, BlkHeader{0, 0, k}));
    must(mem.write_obj(status, uint8_t{0xff}));
    must(mem.write_obj(kDesc + 16ull * d, Desc{header, 16, kNext, static_cast<uint16_t>(d + 1)}));
    must(mem.write_obj(kDesc + 16ull * (d + 1),
                       Desc{data, 512, kNext | kWrite, static_cast<uint16_t>(d + 2)}));
    must(mem.write_obj(kDesc + 16ull * (d + 2), Desc{status, 1, kWrite, 0}));
    must(mem.write_obj(kAvail + 4 + 2ull * k, d));
    must(mem.write_obj(kAvail + 2, static_cast<uint16_t>(k + 1)));
}

uint16_t used_idx(const GuestMemory& mem) {
    return must(mem.read_obj<uint16_t>(kUsed + 2));
}

bool wait_used(const GuestMemory& mem, uint16_t idx) {
    for (int i = 0; i < 500 && used_idx(mem) != idx; ++i) {
        ::poll(nullptr, 0, 10);
    }
    return used_idx(mem) == idx;
}

struct Broker {
    std::unique_ptr<broker::DeviceServer> server;
    const broker::blk::BlkDevice& blk() {
        return dynamic_cast<const broker::blk::BlkDevice&>(server->device());
    }
};

Broker start_broker(const std::string& image, const std::string& socket) {
    broker::blk::BlkOptions options;
    options.path = image;
    auto blk = must(broker::blk::BlkDevice::open(options));
    Broker b{must(broker::DeviceServer::create(std::move(blk), socket))};
    must(b.server->start());
    return b;
}

} // namespace

// Plan step 7 from the VMM's side, against the broker's real blk device: rings stopped for a
// snapshot answer where the broker stopped; a VM that runs on gets them back there; a
// restored device on a NEW broker takes them up at the saved index, serving each request
// once, and the restored guest gets one used-buffer interrupt.
BOOST_AUTO_TEST_CASE(ring_positions_survive_a_snapshot_and_a_new_broker) {
    auto dir = must(broker::testing::TempDir::create("vmm-vhost-user"));
    const std::string image = dir.file("disk.img");
    {
        std::ofstream f(image, std::ios::binary);
        f << std::string(1024 * 1024, 'x');
    }
    Broker first = start_broker(image, dir.file("blk.sock"));
    auto mem = must(GuestMemory::create(16ull << 20));
    auto device = must(vmm::vhost_user::Device::connect("blk", dir.file("blk.sock"), mem, 2000));
    Transport transport(*device, nullptr);
    Mmio m{transport};
    m.wr(reg::kStatus, status::kAcknowledge | status::kDriver);
    negotiate_and_start_queue0(m);

    add_read(mem, 0);
    m.wr(reg::kQueueNotify, 0);
    BOOST_REQUIRE(wait_used(mem, 1));
    BOOST_TEST(must(device->stop_rings()) == std::vector<uint16_t>{1});
    // Stopped: a request made available now stays there, kicked or not.
    add_read(mem, 1);
    m.wr(reg::kQueueNotify, 0);
    BOOST_TEST(!wait_used(mem, 2));
    // A live snapshot's VM runs on: the same broker takes up the ring at 1.
    must(device->resume_rings({1}));
    BOOST_REQUIRE(wait_used(mem, 2));
    BOOST_TEST(must(device->stop_rings()) == std::vector<uint16_t>{2});
    const snapshot::TransportState saved = transport.save_state();
    add_read(mem, 2); // available, never seen by the first broker
    first.server->stop();
    BOOST_TEST(first.blk().stats().requests == 2u);

    // The restored VM: a new broker, a new device, the transport's registers and the ring at 2.
    Broker second = start_broker(image, dir.file("blk2.sock"));
    auto restored = must(vmm::vhost_user::Device::connect("blk", dir.file("blk2.sock"), mem, 2000));
    Transport restored_transport(*restored, nullptr);
    must(restored_transport.restore_state(saved));
    must(restored->activate_at(saved.driver_features, restored_transport.queues(), {2}));
    BOOST_REQUIRE(wait_used(mem, 3));
    BOOST_TEST(must(mem.read_obj<uint32_t>(kUsed + 4 + 8 * 2)) == 6u); // id: head 6, request 2
    for (uint16_t k = 0; k < 3; ++k) {
        BOOST_TEST(must(mem.read_obj<uint8_t>(kStatus + k)) == 0, "request " << k);
    }
    // The completion's own interrupt (the call fd is set before the ring starts), taken.
    BOOST_REQUIRE(wait_readable(restored->call_fd(), 2000));
    uint64_t calls = 0;
    BOOST_REQUIRE(::read(restored->call_fd(), &calls, sizeof calls) == sizeof calls);
    BOOST_TEST(must(restored->interrupt_if_used()));
    BOOST_TEST(wait_readable(restored->call_fd(), 0));
    second.server->stop();
    BOOST_TEST(second.blk().stats().requests == 1u); // request 2 only: none lost, none again
}

BOOST_AUTO_TEST_CASE(connect_fails_cleanly_without_a_backend) {
    auto dir = must(broker::testing::TempDir::create("vmm-vhost-user"));
    auto mem = must(GuestMemory::create(2ull << 20));
    auto device = vmm::vhost_user::Device::connect("blk", dir.file("none.sock"), mem, 100);
    BOOST_REQUIRE(!device.ok());
    BOOST_TEST(device.error().str().find("none.sock") != std::string::npos, device.error().str());
    BOOST_TEST(!vmm::vhost_user::Device::connect("gpu", dir.file("none.sock"), mem, 100).ok());
}
