// virtio-blk through the real vhost-user backend and the test frontend: reads, writes,
// flush, GET_ID, discard/write-zeroes, read-only images, bounds and host I/O errors.
#define BOOST_TEST_MODULE broker_blk
#include <chrono>
#include <cstring>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "broker/devices/blk/device.hpp"
#include "broker/devices/le_bytes.hpp"
#include "broker/testing/device_harness.hpp"
#include "broker/testing/require_ok.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;

namespace {

constexpr uint64_t IMAGE_BYTES = 4 << 20;

struct BlkFixture {
    TempDir dir = TempDir::create("runvm-blk-test").value();
    std::string image = dir.file("disk.img");
    std::unique_ptr<DeviceHarness> h;
    VirtqueueDriver* q = nullptr;

    explicit BlkFixture(bool read_only = false, uint64_t features = ~0ULL) {
        const int fd = ::open(image.c_str(), O_CREAT | O_RDWR, 0600);
        BOOST_REQUIRE(fd >= 0);
        std::vector<uint8_t> data(IMAGE_BYTES);
        for (size_t i = 0; i < data.size(); ++i) {
            data[i] = static_cast<uint8_t>(i * 7 + i / 512);
        }
        BOOST_REQUIRE(::pwrite(fd, data.data(), data.size(), 0) ==
                      static_cast<ssize_t>(data.size()));
        ::close(fd);
        blk::BlkOptions o;
        o.path = image;
        o.read_only = read_only;
        o.serial = "runvm-disk-0";
        auto dev = blk::BlkDevice::open(o);
        BOOST_REQUIRE(dev.ok());
        auto started = DeviceHarness::start(dir, std::move(*dev), 16 << 20, features);
        REQUIRE_OK(started);
        h = std::move(*started);
        auto ring = h->start_ring(0, 128);
        REQUIRE_OK(ring);
        q = *ring;
    }

    // One request; returns {status, used length}.
    std::pair<uint8_t, uint32_t> request(uint32_t type, uint64_t sector, uint64_t data_gpa,
                                         uint32_t data_len, bool data_writable,
                                         bool indirect = false) {
        TestGuestMemory& m = h->memory();
        const uint64_t hdr = m.alloc(16);
        const uint64_t status = m.alloc(1);
        std::memcpy(m.host(hdr), &type, 4);
        std::memset(m.host(hdr) + 4, 0, 4);
        std::memcpy(m.host(hdr) + 8, &sector, 8);
        *m.host(status) = 0xff;
        std::vector<DriverBuffer> bufs{{hdr, 16, false}};
        if (data_len > 0) {
            bufs.push_back({data_gpa, data_len, data_writable});
        }
        bufs.push_back({status, 1, true});
        BOOST_REQUIRE(q->add(bufs, indirect).has_value());
        auto used = h->submit_and_wait(0, 1);
        REQUIRE_OK(used);
        return {*m.host(status), (*used)[0].len};
    }

    std::vector<uint8_t> file_bytes(uint64_t offset, size_t len) {
        std::vector<uint8_t> out(len);
        const int fd = ::open(image.c_str(), O_RDONLY);
        BOOST_REQUIRE(::pread(fd, out.data(), len, static_cast<off_t>(offset)) ==
                      static_cast<ssize_t>(len));
        ::close(fd);
        return out;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(config_space_and_features) {
    BlkFixture f;
    auto config = f.h->frontend().get_config(0, 60);
    BOOST_REQUIRE(config.ok());
    BOOST_TEST(get_le<uint64_t>(config->data()) == IMAGE_BYTES / 512);
    BOOST_TEST(get_le<uint32_t>(config->data() + 20) == 512u);
    BOOST_TEST((f.h->frontend().features() & blk::F_FLUSH) != 0u);
    BOOST_TEST((f.h->frontend().features() & blk::F_RO) == 0u);
}

BOOST_AUTO_TEST_CASE(reads_and_writes_reach_the_image) {
    BlkFixture f;
    TestGuestMemory& m = f.h->memory();
    const uint64_t data = m.alloc(8192);
    auto [st, len] = f.request(blk::T_IN, 10, data, 8192, true);
    BOOST_TEST(st == blk::S_OK);
    BOOST_TEST(len == 8193u);
    BOOST_TEST(std::memcmp(m.host(data), f.file_bytes(10 * 512, 8192).data(), 8192) == 0);

    std::memset(m.host(data), 0xab, 4096);
    std::tie(st, len) = f.request(blk::T_OUT, 100, data, 4096, false, true);
    BOOST_TEST(st == blk::S_OK);
    BOOST_TEST(len == 1u);
    BOOST_TEST(f.file_bytes(100 * 512, 4096) == std::vector<uint8_t>(4096, 0xab));

    std::tie(st, len) = f.request(blk::T_FLUSH, 0, 0, 0, false);
    BOOST_TEST(st == blk::S_OK);
}

BOOST_AUTO_TEST_CASE(get_id_returns_the_serial) {
    BlkFixture f;
    const uint64_t id = f.h->memory().alloc(20);
    auto [st, len] = f.request(blk::T_GET_ID, 0, id, 20, true);
    BOOST_TEST(st == blk::S_OK);
    BOOST_TEST(std::string(reinterpret_cast<char*>(f.h->memory().host(id))) == "runvm-disk-0");
    BOOST_TEST(len == 14u);
}

BOOST_AUTO_TEST_CASE(out_of_range_unaligned_and_unknown_requests) {
    BlkFixture f;
    const uint64_t data = f.h->memory().alloc(4096);
    BOOST_TEST(f.request(blk::T_IN, IMAGE_BYTES / 512 - 1, data, 1024, true).first == blk::S_IOERR);
    BOOST_TEST(f.request(blk::T_IN, ~0ULL / 256, data, 512, true).first == blk::S_IOERR);
    BOOST_TEST(f.request(blk::T_IN, 0, data, 100, true).first == blk::S_IOERR);
    BOOST_TEST(f.request(77, 0, data, 512, true).first == blk::S_UNSUPP);
    // Still serving afterwards.
    BOOST_TEST(f.request(blk::T_IN, 0, data, 512, true).first == blk::S_OK);
}

BOOST_AUTO_TEST_CASE(discard_and_write_zeroes_clear_the_range) {
    BlkFixture f;
    TestGuestMemory& m = f.h->memory();
    const uint64_t seg = m.alloc(16);
    const uint64_t sector = 64;
    const uint32_t sectors = 16, flags = 0;
    std::memcpy(m.host(seg), &sector, 8);
    std::memcpy(m.host(seg) + 8, &sectors, 4);
    std::memcpy(m.host(seg) + 12, &flags, 4);
    BOOST_TEST(f.request(blk::T_WRITE_ZEROES, 0, seg, 16, false).first == blk::S_OK);
    BOOST_TEST(f.file_bytes(64 * 512, 16 * 512) == std::vector<uint8_t>(16 * 512, 0));
    const uint64_t sector2 = 256;
    std::memcpy(m.host(seg), &sector2, 8);
    BOOST_TEST(f.request(blk::T_DISCARD, 0, seg, 16, false).first == blk::S_OK);
}

BOOST_AUTO_TEST_CASE(read_only_image_refuses_writes) {
    BlkFixture f(true);
    BOOST_TEST((f.h->frontend().features() & blk::F_RO) != 0u);
    const uint64_t data = f.h->memory().alloc(512);
    BOOST_TEST(f.request(blk::T_OUT, 0, data, 512, false).first == blk::S_IOERR);
    BOOST_TEST(f.request(blk::T_IN, 0, data, 512, true).first == blk::S_OK);
}

BOOST_AUTO_TEST_CASE(host_io_error_reaches_the_guest_as_ioerr) {
    BlkFixture f;
    // The image shrinks under the device: reads past the new end fail on the host.
    BOOST_REQUIRE(::truncate(f.image.c_str(), 4096) == 0);
    const uint64_t data = f.h->memory().alloc(4096);
    BOOST_TEST(f.request(blk::T_IN, 1000, data, 4096, true).first == blk::S_IOERR);
    BOOST_TEST(f.request(blk::T_IN, 0, data, 4096, true).first == blk::S_OK);
}

BOOST_AUTO_TEST_CASE(works_without_event_idx_and_indirect) {
    BlkFixture f(false, ~(virtio::F_RING_EVENT_IDX | virtio::F_RING_INDIRECT_DESC));
    const uint64_t data = f.h->memory().alloc(512);
    BOOST_TEST(f.request(blk::T_IN, 1, data, 512, true).first == blk::S_OK);
    BOOST_TEST(std::memcmp(f.h->memory().host(data), f.file_bytes(512, 512).data(), 512) == 0);
}

BOOST_AUTO_TEST_CASE(event_idx_interrupts_only_where_the_driver_asked) {
    BlkFixture f;
    TestGuestMemory& m = f.h->memory();
    // Eight reads in one kick; the driver wants an interrupt at the third completion (as
    // virtqueue_enable_cb_delayed asks), then at none of the next eight.
    auto submit_eight = [&] {
        for (int i = 0; i < 8; ++i) {
            const uint64_t hdr = m.alloc(16), data = m.alloc(512), status = m.alloc(1);
            const uint32_t type = blk::T_IN;
            const uint64_t sector = static_cast<uint64_t>(i);
            std::memcpy(m.host(hdr), &type, 4);
            std::memset(m.host(hdr) + 4, 0, 4);
            std::memcpy(m.host(hdr) + 8, &sector, 8);
            BOOST_REQUIRE(
                f.q->add({{hdr, 16, false}, {data, 512, true}, {status, 1, true}}).has_value());
        }
    };
    // Polls the used ring (no interrupt is due for the rest), for at most 5 s.
    auto take_eight = [&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (int n = 0; n < 8;) {
            BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
            n += f.q->take_used() ? 1 : 0;
        }
    };
    submit_eight();
    f.q->arm_interrupt_after(3);
    f.q->publish();
    REQUIRE_OK(f.h->frontend().kick(0));
    BOOST_REQUIRE(f.h->frontend().wait_call(0, 5000).value());
    take_eight();
    BOOST_TEST(f.h->frontend().take_calls(0) == 0u); // the one interrupt, already taken

    submit_eight();
    f.q->arm_interrupt_after(100);
    f.q->publish();
    REQUIRE_OK(f.h->frontend().kick(0));
    take_eight();
    BOOST_TEST(f.h->frontend().take_calls(0) == 0u);
}

// Plan step 7's proof on the broker side: a ring stopped with GET_VRING_BASE in the middle of
// a stream of writes, and a NEW device on the same guest memory started with SET_VRING_BASE
// at that index, together serve every request exactly once. `kick_before_stop` races the
// stop against the device draining the rest (stopping `stop_after` the kick); without it
// the rest is certainly still
// available and unseen when the ring stops.
void ring_handover(bool kick_before_stop, std::chrono::microseconds stop_after = {}) {
    BlkFixture f;
    TestGuestMemory& m = f.h->memory();
    constexpr uint16_t kRequests = 40, kFirst = 15;
    constexpr uint64_t kSector = 2000;
    std::vector<uint64_t> status(kRequests);
    std::vector<uint16_t> head_of(kRequests);
    auto add_write = [&](uint16_t i) {
        const uint64_t hdr = m.alloc(16), data = m.alloc(512);
        status[i] = m.alloc(1);
        const uint32_t type = blk::T_OUT;
        const uint64_t sector = kSector + i;
        std::memcpy(m.host(hdr), &type, 4);
        std::memset(m.host(hdr) + 4, 0, 4);
        std::memcpy(m.host(hdr) + 8, &sector, 8);
        std::memset(m.host(data), i + 1, 512);
        *m.host(status[i]) = 0xff;
        auto head = f.q->add({{hdr, 16, false}, {data, 512, false}, {status[i], 1, true}});
        BOOST_REQUIRE(head.has_value());
        head_of[i] = *head;
    };
    for (uint16_t i = 0; i < kFirst; ++i) {
        add_write(i);
    }
    auto first = f.h->submit_and_wait(0, kFirst);
    REQUIRE_OK(first);
    // A reply comes from the device thread, which serves kicks and requests in turn: the
    // drain of the first batch is over.
    const auto synced = f.h->frontend().get_config(0, 8);
    REQUIRE_OK(synced);
    for (uint16_t i = kFirst; i < kRequests; ++i) {
        add_write(i);
    }
    f.q->publish();
    if (kick_before_stop) {
        const auto kicked = f.h->frontend().kick(0);
        REQUIRE_OK(kicked);
        std::this_thread::sleep_for(stop_after);
    }
    auto base = f.h->frontend().stop_ring(0);
    REQUIRE_OK(base);
    BOOST_TEST_MESSAGE("stopped at " << *base << " of " << kRequests);
    BOOST_TEST(*base >= kFirst);
    BOOST_TEST(*base <= kRequests);
    if (!kick_before_stop) {
        BOOST_TEST(*base == kFirst);
    }
    // Everything taken was completed before the answer: the used ring ends where the
    // available ring was read up to, and nothing was taken twice.
    BOOST_TEST(f.q->used_idx() == *base);
    BOOST_TEST(f.h->server().device().name() == std::string("blk"));
    const auto& first_device = dynamic_cast<blk::BlkDevice&>(f.h->server().device());
    BOOST_TEST(first_device.stats().requests == *base);

    // The "restored VM": a fresh backend on the same RAM, the ring handed over at `base`.
    blk::BlkOptions o;
    o.path = f.image;
    auto dev = blk::BlkDevice::open(o);
    REQUIRE_OK(dev);
    auto second = hand_over_ring(f.dir, "blk2.sock", std::move(*dev), m, 0, *f.q,
                                 static_cast<uint16_t>(*base));
    REQUIRE_OK(second);
    auto& fe = second->frontend;
    const auto kicked = fe->kick(0);
    REQUIRE_OK(kicked);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (f.q->used_idx() != kRequests && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    BOOST_TEST_REQUIRE(f.q->used_idx() == kRequests);
    const auto drained = fe->get_config(0, 8); // the second device's drain is over too
    REQUIRE_OK(drained);
    const auto& second_device = dynamic_cast<blk::BlkDevice&>(second->server->device());
    BOOST_TEST(second_device.stats().requests == kRequests - *base);

    // Each head once on the used ring, each request's status and data in place.
    std::vector<int> seen(f.q->size(), 0);
    for (const auto& e : *first) {
        ++seen.at(e.id);
    }
    while (auto e = f.q->take_used()) {
        ++seen.at(e->id);
        BOOST_TEST(e->len == 1u);
    }
    for (uint16_t i = 0; i < kRequests; ++i) {
        BOOST_TEST(seen[head_of[i]] == 1, "request " << i << " head " << head_of[i]);
        BOOST_TEST(*m.host(status[i]) == blk::S_OK, "request " << i);
        BOOST_TEST(f.file_bytes((kSector + i) * 512, 512) ==
                       std::vector<uint8_t>(512, static_cast<uint8_t>(i + 1)),
                   "request " << i);
    }
    BOOST_TEST(f.q->avail_event() == kRequests); // EVENT_IDX: the new device asks for the next
}

BOOST_AUTO_TEST_CASE(a_ring_stopped_mid_stream_is_finished_by_a_new_device_exactly_once) {
    ring_handover(false);
}

BOOST_AUTO_TEST_CASE(a_ring_stopped_while_the_device_drains_is_finished_exactly_once) {
    // Stopped at once, while it drains, or after: every stop point must hand over cleanly.
    for (int round = 0; round < 20; ++round) {
        ring_handover(true, std::chrono::microseconds(round * round * 5));
    }
}

BOOST_AUTO_TEST_CASE(spec_parses_into_options) {
    auto spec = parse_device_spec("/run/b.sock,path=/img,ro,serial=disk0", blk::SPEC_KEYS);
    BOOST_REQUIRE(spec.ok());
    auto o = blk::parse_options(*spec);
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(o->path == "/img");
    BOOST_TEST(o->read_only);
    BOOST_TEST(o->discard);
    BOOST_TEST(o->serial == "disk0");
    auto no_path =
        blk::parse_options(parse_device_spec("/run/b.sock,nodiscard", blk::SPEC_KEYS).value());
    BOOST_REQUIRE(!no_path.ok());
    BOOST_TEST(no_path.error().str().find("blk /run/b.sock: path= is required") !=
               std::string::npos);
    auto unknown = parse_device_spec("/run/b.sock,path=/img,size=1", blk::SPEC_KEYS);
    BOOST_REQUIRE(!unknown.ok());
    BOOST_TEST(unknown.error().str().find("unknown option 'size'") != std::string::npos);
    BOOST_TEST(!parse_device_spec(",path=/img", blk::SPEC_KEYS).ok()); // no socket
}
