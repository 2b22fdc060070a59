// The VMM's vhost-user frontend and virtio-mmio transport against the broker's real blk
// device on a real socket: a software driver in the test programs the device through the
// MMIO registers, places a request in the shared memfd RAM, kicks, and reads the answer.
#include <cstring>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <poll.h>

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
    BOOST_REQUIRE(transport.activated());

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

BOOST_AUTO_TEST_CASE(connect_fails_cleanly_without_a_backend) {
    auto dir = must(broker::testing::TempDir::create("vmm-vhost-user"));
    auto mem = must(GuestMemory::create(2ull << 20));
    auto device = vmm::vhost_user::Device::connect("blk", dir.file("none.sock"), mem, 100);
    BOOST_REQUIRE(!device.ok());
    BOOST_TEST(device.error().str().find("none.sock") != std::string::npos, device.error().str());
    BOOST_TEST(!vmm::vhost_user::Device::connect("gpu", dir.file("none.sock"), mem, 100).ok());
}
