// Malformed vhost-user traffic from the test frontend: wrong sizes, missing or extra fds,
// overlapping/overflowing/past-EOF regions, ring addresses outside memory, bad ring sizes,
// framing errors. Each is refused (or the connection dropped and the device reset) and the
// broker keeps serving.
#define BOOST_TEST_MODULE broker_vhost_user
#include <atomic>
#include <cstring>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "broker/devices/blk/device.hpp"
#include "broker/testing/device_harness.hpp"
#include "broker/testing/require_ok.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;
using namespace runvm::broker::vhost_user;

namespace {

struct Fixture {
    TempDir dir = TempDir::create("runvm-vu-test").value();
    std::unique_ptr<DeviceHarness> h;
    Fixture() {
        const std::string image = dir.file("disk.img");
        const int fd = ::open(image.c_str(), O_CREAT | O_RDWR, 0600);
        BOOST_REQUIRE(fd >= 0 && ::ftruncate(fd, 1 << 20) == 0);
        ::close(fd);
        auto dev = blk::BlkDevice::open({image, false, true, ""});
        REQUIRE_OK(dev);
        auto started = DeviceHarness::start(dir, std::move(*dev), 4 << 20);
        REQUIRE_OK(started);
        h = std::move(*started);
    }
    uint64_t ack(uint32_t request, const void* p, uint32_t size, const std::vector<int>& fds = {}) {
        auto r = h->frontend().send_acked(request, p, size, fds);
        REQUIRE_OK(r);
        return *r;
    }
    // The device still works end to end: a ring starts and a GET_ID completes.
    void still_serving() {
        auto ring = h->start_ring(0, 8);
        REQUIRE_OK(ring);
        TestGuestMemory& m = h->memory();
        const uint64_t hdr = m.alloc(16), id = m.alloc(20), st = m.alloc(1);
        const uint32_t type = blk::T_GET_ID;
        std::memset(m.host(hdr), 0, 16);
        std::memcpy(m.host(hdr), &type, 4);
        BOOST_REQUIRE((*ring)->add({{hdr, 16, false}, {id, 20, true}, {st, 1, true}}).has_value());
        auto used = h->submit_and_wait(0, 1);
        REQUIRE_OK(used);
        BOOST_TEST(*m.host(st) == blk::S_OK);
    }
};

struct Table {
    MemoryHeader head;
    MemoryRegionDesc r[2];
};

} // namespace

BOOST_AUTO_TEST_CASE(bad_payload_sizes_and_fd_counts_are_refused) {
    Fixture f;
    const uint64_t v = 0;
    const uint32_t four = 0;
    BOOST_TEST(f.ack(SET_FEATURES, &four, 4) != 0u);
    BOOST_TEST(f.ack(SET_VRING_NUM, &v, 4) != 0u);
    VringState huge{0, 4096};
    BOOST_TEST(f.ack(SET_VRING_NUM, &huge, sizeof(huge)) != 0u);
    VringState odd{0, 100};
    BOOST_TEST(f.ack(SET_VRING_NUM, &odd, sizeof(odd)) != 0u);
    VringState other{7, 8};
    BOOST_TEST(f.ack(SET_VRING_NUM, &other, sizeof(other)) != 0u);
    const uint64_t slot0 = 0;
    BOOST_TEST(f.ack(SET_VRING_KICK, &slot0, sizeof(slot0)) != 0u); // fd missing
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    BOOST_TEST(f.ack(SET_VRING_CALL, &slot0, sizeof(slot0), {fds[0], fds[1]}) != 0u); // extra
    BOOST_TEST(f.ack(SET_OWNER, nullptr, 0, {fds[0]}) != 0u);
    ::close(fds[0]);
    ::close(fds[1]);
    const uint64_t unoffered = 1ULL << 55;
    BOOST_TEST(f.ack(SET_FEATURES, &unoffered, sizeof(unoffered)) != 0u);
    BOOST_TEST(f.ack(99, nullptr, 0) != 0u);
    f.still_serving();
    BOOST_TEST(f.h->server().stats().refused.load() >= 10u);
    BOOST_TEST(f.h->server().stats().disconnects.load() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_memory_tables_are_refused) {
    Fixture f;
    TestGuestMemory& m = f.h->memory();
    const uint64_t uva = m.user_addr(m.base());
    Table overlap{{2, 0}, {{0, 1 << 20, uva, 0}, {4096, 1 << 20, uva + (2 << 20), 0}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &overlap, sizeof(overlap), {m.fd(), m.fd()}) != 0u);
    Table wrap{{1, 0}, {{~0ULL - 4095, 1 << 20, uva, 0}, {}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &wrap, 8 + 32, {m.fd()}) != 0u);
    Table past_eof{{1, 0}, {{0, 1ULL << 40, uva, 0}, {}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &past_eof, 8 + 32, {m.fd()}) != 0u);
    Table offset_past{{1, 0}, {{0, 4096, uva, m.size()}, {}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &offset_past, 8 + 32, {m.fd()}) != 0u);
    Table two_no_fds{{2, 0}, {{0, 4096, uva, 0}, {1 << 20, 4096, uva + (1 << 20), 0}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &two_no_fds, sizeof(two_no_fds), {m.fd()}) != 0u);
    Table zero{{0, 0}, {}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &zero, 8) != 0u);
    Table size_lies{{2, 0}, {{0, 4096, uva, 0}, {}}};
    BOOST_TEST(f.ack(SET_MEM_TABLE, &size_lies, 8 + 32, {m.fd(), m.fd()}) != 0u);
    // The good table from negotiate() is still in place.
    f.still_serving();
}

BOOST_AUTO_TEST_CASE(ring_addresses_outside_memory_are_refused) {
    Fixture f;
    VringState num{0, 8};
    BOOST_TEST(f.ack(SET_VRING_NUM, &num, sizeof(num)) == 0u);
    TestGuestMemory& m = f.h->memory();
    const uint64_t end = m.user_addr(m.base()) + m.size();
    VringAddr outside{0, 0, end - 16, end - 16, end - 16, 0};
    BOOST_TEST(f.ack(SET_VRING_ADDR, &outside, sizeof(outside)) != 0u);
    VringAddr misaligned{
        0, 0, m.user_addr(m.base()) + 1, m.user_addr(m.base()) + 4096, m.user_addr(m.base()) + 8192,
        0};
    BOOST_TEST(f.ack(SET_VRING_ADDR, &misaligned, sizeof(misaligned)) == 0u); // in memory
    auto kick = EventFd::create();
    REQUIRE_OK(kick);
    const uint64_t slot0 = 0;
    BOOST_TEST(f.ack(SET_VRING_KICK, &slot0, sizeof(slot0), {kick->get()}) != 0u); // alignment
    f.still_serving();
}

BOOST_AUTO_TEST_CASE(framing_errors_drop_the_connection_and_the_device_recovers) {
    Fixture f;
    std::vector<uint8_t> big(8192, 0);
    BOOST_REQUIRE(f.h->frontend().send(SET_OWNER, big.data(), 8192, {}, VERSION).ok());
    BOOST_TEST(f.h->frontend().peer_closed(2000));
    auto bad_version = VhostUserTestFrontend::connect(f.h->server().socket_path());
    REQUIRE_OK(bad_version);
    BOOST_REQUIRE(bad_version->send(GET_FEATURES, nullptr, 0, {}, 0x2).ok());
    BOOST_TEST(bad_version->peer_closed(2000));
    // A new frontend gets a fresh, working device.
    auto fresh = VhostUserTestFrontend::connect(f.h->server().socket_path());
    REQUIRE_OK(fresh);
    auto negotiated = fresh->negotiate(~0ULL, f.h->memory());
    REQUIRE_OK(negotiated);
    BOOST_TEST(f.h->server().stats().disconnects.load() >= 2u);
}

namespace {

// A device that counts its resets around the real blk device.
class ResetCounter : public Device {
public:
    explicit ResetCounter(std::unique_ptr<Device> inner) : inner_(std::move(inner)) {}
    const char* name() const override { return inner_->name(); }
    uint64_t features() const override { return inner_->features(); }
    std::vector<uint8_t> config() const override { return inner_->config(); }
    uint16_t queue_count() const override { return inner_->queue_count(); }
    Result<void> attach(DeviceContext* c, EventLoop* l) override { return inner_->attach(c, l); }
    void on_kick(uint16_t queue) override { inner_->on_kick(queue); }
    void reset() override {
        ++resets;
        inner_->reset();
    }
    std::atomic<int> resets{0};

private:
    std::unique_ptr<Device> inner_;
};

} // namespace

// GET_VRING_BASE on every ring is a driver reset or a pause (a VM snapshot that runs on):
// rings resumed where they stopped keep the device's state (vsock connections, the FUSE
// session), a ring restarted from 0 resets it.
BOOST_AUTO_TEST_CASE(a_paused_device_keeps_its_state_and_a_restart_from_zero_resets_it) {
    TempDir dir = TempDir::create("runvm-vu-test").value();
    const std::string image = dir.file("disk.img");
    const int fd = ::open(image.c_str(), O_CREAT | O_RDWR, 0600);
    BOOST_REQUIRE(fd >= 0 && ::ftruncate(fd, 1 << 20) == 0);
    ::close(fd);
    auto blk_dev = blk::BlkDevice::open({image, false, true, ""});
    REQUIRE_OK(blk_dev);
    auto counting = std::make_unique<ResetCounter>(std::move(*blk_dev));
    ResetCounter* counter = counting.get();
    auto started = DeviceHarness::start(dir, std::move(counting), 4 << 20);
    REQUIRE_OK(started);
    DeviceHarness& h = **started;
    auto ring = h.start_ring(0, 8);
    REQUIRE_OK(ring);
    TestGuestMemory& m = h.memory();
    auto get_id = [&] {
        const uint64_t hdr = m.alloc(16), id = m.alloc(20), st = m.alloc(1);
        const uint32_t type = blk::T_GET_ID;
        std::memset(m.host(hdr), 0, 16);
        std::memcpy(m.host(hdr), &type, 4);
        BOOST_REQUIRE((*ring)->add({{hdr, 16, false}, {id, 20, true}, {st, 1, true}}).has_value());
        auto used = h.submit_and_wait(0, 1);
        REQUIRE_OK(used);
        BOOST_TEST(*m.host(st) == blk::S_OK);
    };
    get_id();
    auto paused = h.frontend().stop_ring(0);
    REQUIRE_OK(paused);
    BOOST_TEST(*paused == 1u);
    const auto resumed = h.frontend().start_ring(0, **ring, 1);
    REQUIRE_OK(resumed);
    get_id();
    BOOST_TEST(counter->resets.load() == 0);

    auto stopped = h.frontend().stop_ring(0);
    REQUIRE_OK(stopped);
    BOOST_TEST(*stopped == 2u);
    auto fresh = h.start_ring(0, 8); // a new driver's ring, from 0
    REQUIRE_OK(fresh);
    BOOST_TEST(counter->resets.load() == 1);
}
