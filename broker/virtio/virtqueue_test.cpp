// Unit tests for GuestMemory translation and Virtqueue chain walking, driven by the test
// driver on a memfd, including every malformed-chain case the walker must refuse.
#define BOOST_TEST_MODULE broker_virtqueue
#include <cstring>

#include <boost/test/unit_test.hpp>
#include <sys/mman.h>

#include "broker/testing/test_guest_memory.hpp"
#include "broker/testing/virtqueue_driver.hpp"
#include "broker/virtio/virtqueue.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;

namespace {

struct Fixture {
    TestGuestMemory ram = TestGuestMemory::create(1 << 20).value();
    GuestMemory memory;
    Fixture() {
        auto m = Mapping::map(ram.size(), PROT_READ | PROT_WRITE, MAP_SHARED, ram.fd(), 0, "ram");
        BOOST_REQUIRE(m.ok());
        BOOST_REQUIRE(
            memory.add_region(ram.base(), ram.size(), ram.user_addr(ram.base()), std::move(*m), 0)
                .ok());
    }
    Virtqueue queue(VirtqueueDriver& d, bool event_idx = false, bool indirect = true) {
        RingLayout l;
        l.size = d.size();
        l.desc = memory.translate(d.desc_gpa(), virtio::desc_table_bytes(d.size()));
        l.avail = memory.translate(d.avail_gpa(), virtio::avail_ring_bytes(d.size()));
        l.used = memory.translate(d.used_gpa(), virtio::used_ring_bytes(d.size()));
        l.event_idx = event_idx;
        l.indirect = indirect;
        return Virtqueue::create(&memory, l).value();
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(guest_memory_translation_is_bounds_checked) {
    Fixture f;
    const uint64_t base = f.ram.base();
    const uint64_t size = f.ram.size();
    BOOST_TEST(f.memory.translate(base, size) != nullptr);
    BOOST_TEST(f.memory.translate(base + 10, 1) - f.memory.translate(base, 1) == 10);
    BOOST_TEST(f.memory.translate(base + size - 1, 1) != nullptr);
    BOOST_TEST(f.memory.translate(base + size - 1, 2) == nullptr);
    BOOST_TEST(f.memory.translate(base - 1, 1) == nullptr);
    BOOST_TEST(f.memory.translate(base + 8, ~0ULL) == nullptr);
    BOOST_TEST(f.memory.translate(~0ULL, 2) == nullptr);
    // Overlapping and wrapping regions are refused.
    auto m = Mapping::map(4096, PROT_READ, MAP_SHARED, f.ram.fd(), 0, "ram2");
    BOOST_TEST(!f.memory.add_region(base + 4096, 4096, 0x1000, std::move(*m), 0).ok());
    auto m2 = Mapping::map(4096, PROT_READ, MAP_SHARED, f.ram.fd(), 0, "ram3");
    BOOST_TEST(!f.memory.add_region(~0ULL - 100, 4096, 0x1000, std::move(*m2), 0).ok());
}

BOOST_AUTO_TEST_CASE(pops_direct_and_indirect_chains) {
    Fixture f;
    VirtqueueDriver d(f.ram, 16);
    Virtqueue q = f.queue(d);
    const uint64_t a = f.ram.alloc(100), b = f.ram.alloc(200), c = f.ram.alloc(300);
    std::memcpy(f.ram.host(a), "hello", 5);
    d.add({{a, 100, false}, {b, 200, true}});
    d.add({{a, 100, false}, {b, 200, false}, {c, 300, true}}, true);
    d.publish();
    auto first = q.pop();
    BOOST_REQUIRE(first.ok() && first->has_value());
    const DescriptorChain& c1 = **first;
    BOOST_TEST(c1.readable_bytes == 100u);
    BOOST_TEST(c1.writable_bytes == 200u);
    char buf[5];
    BOOST_TEST(c1.read(0, buf, 5) == 5u);
    BOOST_TEST(std::memcmp(buf, "hello", 5) == 0);
    BOOST_TEST(c1.write(150, "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyz", 60) ==
               50u);
    q.add_used(c1.head, 50);
    auto second = q.pop();
    BOOST_REQUIRE(second.ok() && second->has_value());
    BOOST_TEST((**second).readable_bytes == 300u);
    BOOST_TEST((**second).writable_bytes == 300u);
    q.add_used((**second).head, 7);
    BOOST_TEST(!q.pop()->has_value());
    auto u1 = d.take_used();
    BOOST_REQUIRE(u1.has_value());
    BOOST_TEST(u1->len == 50u);
    BOOST_TEST(d.take_used()->len == 7u);
    BOOST_TEST(q.stats().malformed_chains == 0u);
}

BOOST_AUTO_TEST_CASE(pop_into_a_reused_chain_and_unpop) {
    Fixture f;
    VirtqueueDriver d(f.ram, 16);
    Virtqueue q = f.queue(d);
    const uint64_t a = f.ram.alloc(100), b = f.ram.alloc(200), c = f.ram.alloc(300);
    const uint16_t first = d.add({{a, 100, false}, {b, 200, true}}).value();
    const uint16_t second = d.add({{c, 300, true}}, true).value();
    d.publish();
    DescriptorChain chain;
    BOOST_REQUIRE(q.pop(chain).value());
    BOOST_TEST(chain.head == first);
    // Put back unused: the same chain comes again.
    q.unpop();
    BOOST_REQUIRE(q.pop(chain).value());
    BOOST_TEST(chain.head == first);
    BOOST_TEST(chain.readable_bytes == 100u);
    q.add_used(chain.head, 0);
    // The reused chain holds only the second request's segments.
    BOOST_REQUIRE(q.pop(chain).value());
    BOOST_TEST(chain.head == second);
    BOOST_TEST(chain.readable.empty());
    BOOST_TEST(chain.readable_bytes == 0u);
    BOOST_REQUIRE(chain.writable.size() == 1u);
    BOOST_TEST(chain.writable_bytes == 300u);
    std::vector<iovec> iov;
    chain.writable_iov(10, 1000, iov);
    BOOST_REQUIRE(iov.size() == 1u);
    BOOST_TEST(iov[0].iov_len == 290u);
    q.add_used(chain.head, 0);
    BOOST_TEST(!q.pop(chain).value());
}

BOOST_AUTO_TEST_CASE(refuses_malformed_chains_and_keeps_going) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    Virtqueue q = f.queue(d, false, true);
    const uint64_t buf = f.ram.alloc(64);
    // Each bad chain is published alone and must be skipped, leaving the ring empty.
    auto publish_raw = [&](uint16_t head) {
        d.set_avail_entry(d.avail_idx(), head);
        d.set_avail_idx(static_cast<uint16_t>(d.avail_idx() + 1));
        if (head != 1 || d.desc(1).len != 64) {
            auto r = q.pop();
            BOOST_TEST((r.ok() && !r->has_value()));
        }
    };
    // 0 -> 1 -> 0: a loop.
    d.desc(0) = {buf, 8, virtio::DESC_F_NEXT, 1};
    d.desc(1) = {buf, 8, virtio::DESC_F_NEXT, 0};
    publish_raw(0);
    // Buffer outside guest RAM.
    d.desc(2) = {f.ram.base() + f.ram.size() - 4, 8, 0, 0};
    publish_raw(2);
    // next index past the table.
    d.desc(3) = {buf, 8, virtio::DESC_F_NEXT, 200};
    publish_raw(3);
    // Readable after writable.
    d.desc(4) = {buf, 8, virtio::DESC_F_WRITE | virtio::DESC_F_NEXT, 5};
    d.desc(5) = {buf, 8, 0, 0};
    publish_raw(4);
    // Indirect table with a bad length, and a nested indirect.
    d.desc(6) = {buf, 15, virtio::DESC_F_INDIRECT, 0};
    publish_raw(6);
    const uint64_t table = f.ram.alloc(32, 16);
    auto* t = reinterpret_cast<virtio::Descriptor*>(f.ram.host(table));
    t[0] = {table, 32, virtio::DESC_F_INDIRECT, 0};
    d.desc(7) = {table, 32, virtio::DESC_F_INDIRECT, 0};
    publish_raw(7);
    // Head index past the ring: dropped without a used entry.
    publish_raw(9);
    // Then a good one.
    d.desc(1) = {buf, 64, virtio::DESC_F_WRITE, 0};
    publish_raw(1);
    auto good = q.pop();
    BOOST_REQUIRE(good.ok() && good->has_value());
    BOOST_TEST((**good).head == 1);
    BOOST_TEST(q.stats().malformed_chains == 7u);
    // Six refused chains came back with length 0.
    int zero_len = 0;
    while (auto u = d.take_used()) {
        zero_len += u->len == 0 ? 1 : 0;
    }
    BOOST_TEST(zero_len == 6);
}

BOOST_AUTO_TEST_CASE(indirect_refused_when_not_negotiated_and_loops_inside_tables) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    Virtqueue plain = f.queue(d, false, false);
    const uint64_t buf = f.ram.alloc(64);
    d.add({{buf, 8, false}}, true);
    d.publish();
    BOOST_TEST(!plain.pop()->has_value());
    BOOST_TEST(plain.stats().malformed_chains == 1u);

    Fixture g;
    VirtqueueDriver e(g.ram, 8);
    Virtqueue q = g.queue(e, false, true);
    const uint64_t table = g.ram.alloc(48, 16);
    auto* t = reinterpret_cast<virtio::Descriptor*>(g.ram.host(table));
    t[0] = {table, 8, virtio::DESC_F_NEXT, 1};
    t[1] = {table, 8, virtio::DESC_F_NEXT, 2};
    t[2] = {table, 8, virtio::DESC_F_NEXT, 0};
    e.desc(0) = {table, 48, virtio::DESC_F_INDIRECT, 0};
    e.set_avail_entry(0, 0);
    e.set_avail_idx(1);
    BOOST_TEST(!q.pop()->has_value());
    BOOST_TEST(q.stats().malformed_chains == 1u);
}

BOOST_AUTO_TEST_CASE(available_index_too_far_ahead_breaks_the_queue) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    Virtqueue q = f.queue(d);
    d.set_avail_idx(9);
    BOOST_TEST(!q.pop().ok());
    BOOST_TEST(q.broken());
    BOOST_TEST(!q.pop().ok());
}

// Found by broker_vhost_user_fuzz: with the used ring on the available ring, every used
// index written for a refused chain moved the available index too, and pop() never returned.
BOOST_AUTO_TEST_CASE(used_ring_over_the_available_ring_or_descriptors_is_refused) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    RingLayout l;
    l.size = d.size();
    l.desc = f.memory.translate(d.desc_gpa(), virtio::desc_table_bytes(d.size()));
    l.avail = f.memory.translate(d.avail_gpa(), virtio::avail_ring_bytes(d.size()));
    l.used = l.avail; // used idx on avail idx
    BOOST_TEST(!Virtqueue::create(&f.memory, l).ok());
    l.used = l.desc + 16;
    BOOST_TEST(!Virtqueue::create(&f.memory, l).ok());
    l.used = f.memory.translate(d.used_gpa(), virtio::used_ring_bytes(d.size()));
    BOOST_TEST(Virtqueue::create(&f.memory, l).ok());
}

BOOST_AUTO_TEST_CASE(event_idx_suppresses_and_requests_notifications) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    Virtqueue q = f.queue(d, true);
    const uint64_t buf = f.ram.alloc(64);
    for (int i = 0; i < 3; ++i) {
        d.add({{buf, 8, true}});
    }
    // The driver wants an interrupt only after the third used entry (used_event = 2).
    d.set_used_event(2);
    d.publish();
    for (int i = 0; i < 3; ++i) {
        auto c = q.pop();
        q.add_used((**c).head, 1);
        BOOST_TEST(q.should_notify() == (i == 2));
    }
    BOOST_TEST(!q.enable_kicks());
    BOOST_TEST(d.avail_event() == 3);
    d.add({{buf, 8, true}});
    d.publish();
    BOOST_TEST(q.enable_kicks());
}

BOOST_AUTO_TEST_CASE(no_interrupt_flag_without_event_idx) {
    Fixture f;
    VirtqueueDriver d(f.ram, 8);
    Virtqueue q = f.queue(d, false);
    const uint64_t buf = f.ram.alloc(64);
    d.add({{buf, 8, true}});
    d.add({{buf, 8, true}});
    d.publish();
    d.set_no_interrupt(true);
    q.add_used((**q.pop()).head, 1);
    BOOST_TEST(!q.should_notify());
    d.set_no_interrupt(false);
    q.add_used((**q.pop()).head, 1);
    BOOST_TEST(q.should_notify());
    BOOST_TEST(!q.should_notify()); // nothing new since
}
