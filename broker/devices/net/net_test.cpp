// virtio-net against a real tap in a throwaway network namespace, driven in-process: tx
// frames reach the tap, tap frames reach guest buffers (header, num_buffers, merging),
// malformed frames are dropped and counted, floods are served in bounded batches.
#define BOOST_TEST_MODULE broker_net
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "base/unix_socket.hpp"
#include "broker/devices/net/device.hpp"
#include "broker/devices/net/vnet_header.hpp"
#include "broker/testing/device_harness.hpp"
#include "broker/testing/direct_queues.hpp"
#include "broker/testing/require_ok.hpp"
#include "broker/virtio/virtio_spec.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::net;
using namespace runvm::broker::testing;

namespace {

constexpr uint16_t TEST_ETHERTYPE = 0x88b5; // IEEE local experimental
const std::array<uint8_t, 6> GUEST_MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// Runs the whole test binary in its own network namespace, without IPv6 chatter on the tap.
struct PrivateNetns {
    PrivateNetns() {
        if (::geteuid() != 0 || ::unshare(CLONE_NEWNET) != 0 ||
            ::access("/dev/net/tun", R_OK) != 0) {
            std::fprintf(stderr, "broker_net_test: needs root and /dev/net/tun, skipped\n");
            std::exit(77);
        }
        for (const char* p : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                              "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
            UniqueFd f(::open(p, O_WRONLY | O_CLOEXEC));
            if (f) {
                (void)!::write(f.get(), "1", 1);
            }
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(PrivateNetns);

struct Context : DeviceContext {
    DirectQueues* q = nullptr;
    uint64_t acked = 0;
    Virtqueue* queue(uint16_t i) override { return q->queue(i); }
    void notify(uint16_t i) override { q->notify(i); }
    uint64_t acked_features() const override { return acked; }
};

std::vector<uint8_t> eth_frame(size_t payload, uint8_t fill) {
    std::vector<uint8_t> f(ETH_HEADER_BYTES + payload, fill);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, GUEST_MAC.data(), 6);
    f[12] = TEST_ETHERTYPE >> 8;
    f[13] = TEST_ETHERTYPE & 0xff;
    for (size_t i = 0; i < payload; ++i) {
        f[ETH_HEADER_BYTES + i] = static_cast<uint8_t>(fill + i);
    }
    return f;
}

// Sets tap `name` up and returns an AF_PACKET socket on it: the host side of the tap.
UniqueFd bring_up_and_listen(const char* name, int* ifindex) {
    UniqueFd packet;
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, name);
    BOOST_REQUIRE(::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    BOOST_REQUIRE(::ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0);
    *ifindex = static_cast<int>(::if_nametoindex(name));
    packet.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
    BOOST_REQUIRE(packet.valid());
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = *ifindex;
    BOOST_REQUIRE(::bind(packet.get(), reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) == 0);
    return packet;
}

struct Net {
    std::unique_ptr<DirectQueues> queues;
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<NetDevice> dev;
    Context ctx;
    UniqueFd packet; // the host side of the tap
    int ifindex = 0;

    explicit Net(uint64_t acked, uint16_t ring = 256) {
        auto q = DirectQueues::create(2, ring, 16 << 20, true);
        REQUIRE_OK(q);
        queues = std::move(*q);
        auto l = EventLoop::create();
        REQUIRE_OK(l);
        loop = std::move(*l);
        NetOptions o;
        o.tap_name = "rvt0";
        o.mac = GUEST_MAC;
        o.mtu = 1500;
        auto d = NetDevice::open(o);
        REQUIRE_OK(d);
        dev = std::move(*d);
        ctx.q = queues.get();
        ctx.acked = acked;
        auto attached = dev->attach(&ctx, loop.get());
        REQUIRE_OK(attached);
        packet = bring_up_and_listen("rvt0", &ifindex);
    }

    VirtqueueDriver& tx() { return queues->driver(TXQ); }
    VirtqueueDriver& rx() { return queues->driver(RXQ); }

    // Places header + frame as one tx chain (split in two descriptors when `split`).
    void add_tx(const VnetHeader& h, const std::vector<uint8_t>& frame, bool split = false) {
        const uint64_t gpa = queues->ram().alloc(VNET_HDR_BYTES + frame.size() + 1);
        encode_vnet_header(h, queues->ram().host(gpa));
        std::memcpy(queues->ram().host(gpa) + VNET_HDR_BYTES, frame.data(), frame.size());
        const auto total = static_cast<uint32_t>(VNET_HDR_BYTES + frame.size());
        if (split) {
            BOOST_REQUIRE(tx().add({{gpa, VNET_HDR_BYTES, false},
                                    {gpa + VNET_HDR_BYTES, total - VNET_HDR_BYTES, false}})
                              .has_value());
        } else {
            BOOST_REQUIRE(tx().add({{gpa, total, false}}).has_value());
        }
    }
    void add_rx(uint32_t len, std::vector<uint64_t>& by_head) {
        const uint64_t gpa = queues->ram().alloc(len);
        auto head = rx().add({{gpa, len, true}});
        BOOST_REQUIRE(head.has_value());
        by_head.resize(std::max<size_t>(by_head.size(), *head + 1U));
        by_head[*head] = gpa;
    }
    // The next test frame the tap handed to the host stack, or empty after timeout_ms.
    std::vector<uint8_t> host_receive(int timeout_ms = 1000) {
        std::vector<uint8_t> buf(70000);
        for (;;) {
            pollfd p{packet.get(), POLLIN, 0};
            if (::poll(&p, 1, timeout_ms) <= 0) {
                return {};
            }
            const ssize_t n = ::recv(packet.get(), buf.data(), buf.size(), 0);
            if (n >= static_cast<ssize_t>(ETH_HEADER_BYTES) && buf[12] == (TEST_ETHERTYPE >> 8) &&
                buf[13] == (TEST_ETHERTYPE & 0xff)) {
                buf.resize(static_cast<size_t>(n));
                return buf;
            }
        }
    }
    void host_send(const std::vector<uint8_t>& frame) {
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_ifindex = ifindex;
        sll.sll_halen = 6;
        BOOST_REQUIRE(::sendto(packet.get(), frame.data(), frame.size(), 0,
                               reinterpret_cast<sockaddr*>(&sll),
                               sizeof(sll)) == static_cast<ssize_t>(frame.size()));
    }
    size_t take_all_used(std::vector<virtio::UsedElement>* out = nullptr,
                         VirtqueueDriver* d = nullptr) {
        VirtqueueDriver& drv = d ? *d : tx();
        size_t n = 0;
        while (auto u = drv.take_used()) {
            if (out) {
                out->push_back(*u);
            }
            ++n;
        }
        return n;
    }
};

void run_loop(Net& n, int timeout_ms) {
    auto r = n.loop->run_once(timeout_ms);
    REQUIRE_OK(r);
}

constexpr uint64_t ALL = virtio::F_VERSION_1 | virtio::F_RING_EVENT_IDX | F_MRG_RXBUF | F_CSUM |
                         F_GUEST_CSUM | F_HOST_TSO4 | F_HOST_TSO6 | F_MAC | F_MTU;

} // namespace

BOOST_AUTO_TEST_CASE(features_and_config_space) {
    Net n(ALL);
    const uint64_t f = n.dev->features();
    BOOST_TEST((f & virtio::F_VERSION_1) != 0);
    BOOST_TEST((f & F_MRG_RXBUF) != 0);
    BOOST_TEST((f & F_MAC) != 0);
    BOOST_TEST((f & F_MTU) != 0);
    BOOST_TEST((f & (F_CSUM | F_HOST_TSO4 | F_HOST_TSO6)) == (F_CSUM | F_HOST_TSO4 | F_HOST_TSO6));
    const auto c = n.dev->config();
    BOOST_REQUIRE(c.size() == 12U);
    BOOST_TEST(std::equal(GUEST_MAC.begin(), GUEST_MAC.end(), c.begin()));
    BOOST_TEST(c[6] == S_LINK_UP);
    BOOST_TEST((c[10] | c[11] << 8) == 1500);
    BOOST_TEST(format_mac(parse_mac("52:54:00:12:34:56").value()) == "52:54:00:12:34:56");
    BOOST_TEST(!parse_mac("52:54:00:12:34").ok());
    BOOST_TEST(!parse_mac("52:54:00:12:34:5g").ok());
}

BOOST_AUTO_TEST_CASE(tx_frame_reaches_the_tap) {
    Net n(ALL);
    const auto frame = eth_frame(300, 7);
    n.add_tx(VnetHeader{}, frame);
    n.add_tx(VnetHeader{}, eth_frame(40, 9), true); // header and frame in two descriptors
    n.tx().publish();
    n.dev->on_kick(TXQ);
    BOOST_TEST(n.take_all_used() == 2U);
    BOOST_TEST(n.host_receive() == frame);
    BOOST_TEST(n.host_receive() == eth_frame(40, 9));
    BOOST_TEST(n.dev->stats().tx_frames == 2U);
    BOOST_TEST(n.dev->stats().tx_bytes == frame.size() + 54U);
}

// Issue #21 item 3: the header that reaches the tap is the copy that was checked. The guest
// rewrites its header between the check and the send (here: after prepare_tx_frame, where
// the device thread would be between the two); what is sent is still the checked one.
BOOST_AUTO_TEST_CASE(tx_sends_the_checked_header_copy_not_guest_memory) {
    Net n(ALL);
    const auto frame = eth_frame(80, 4);
    n.add_tx(VnetHeader{}, frame, true);
    n.add_tx(VnetHeader{}, frame); // header and payload in one descriptor
    n.tx().publish();
    VnetHeader hostile; // tun refuses it (EINVAL): unknown GSO type, csum past the frame
    hostile.flags = HDR_F_NEEDS_CSUM;
    hostile.gso_type = 0x42;
    hostile.csum_start = 60000;
    uint8_t checked[VNET_HDR_BYTES];
    encode_vnet_header(VnetHeader{}, checked);
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd near(sv[0]);
    UniqueFd far(sv[1]);
    for (int i = 0; i < 2; ++i) {
        DescriptorChain chain;
        auto got = n.queues->queue(TXQ)->pop(chain);
        BOOST_REQUIRE((got && *got));
        TxFrame tx;
        BOOST_REQUIRE((prepare_tx_frame(chain, ALL, tx) == TxCheck::ok));
        BOOST_TEST(tx.iov.at(0).iov_base == static_cast<void*>(tx.header));
        BOOST_TEST(tx.iov.at(0).iov_len == VNET_HDR_BYTES);
        uint8_t* guest_header = chain.readable.at(0).host;
        encode_vnet_header(hostile, guest_header);
        // A seqpacket peer shows the exact bytes sent: the checked header, then the frame.
        BOOST_TEST(write_tx_frame(near.get(), tx) ==
                   static_cast<ssize_t>(VNET_HDR_BYTES + frame.size()));
        std::vector<uint8_t> sent(VNET_HDR_BYTES + frame.size() + 16);
        BOOST_TEST(::recv(far.get(), sent.data(), sent.size(), 0) ==
                   static_cast<ssize_t>(VNET_HDR_BYTES + frame.size()));
        BOOST_TEST(std::memcmp(sent.data(), checked, VNET_HDR_BYTES) == 0);
        BOOST_TEST(std::equal(frame.begin(), frame.end(), sent.begin() + VNET_HDR_BYTES));
        // The tap takes it too: the hostile header never reaches tun.
        BOOST_TEST(write_tx_frame(n.dev->tap_fd(), tx) >= 0);
        BOOST_TEST(n.host_receive() == frame);
        // The guest's live header would have been refused.
        std::memcpy(tx.header, guest_header, VNET_HDR_BYTES);
        BOOST_TEST(write_tx_frame(n.dev->tap_fd(), tx) < 0);
    }
}

BOOST_AUTO_TEST_CASE(rx_frame_merged_over_buffers_with_num_buffers) {
    Net n(ALL);
    std::vector<uint64_t> bufs;
    for (int i = 0; i < 8; ++i) {
        n.add_rx(512, bufs);
    }
    n.rx().publish();
    n.dev->on_kick(RXQ); // nothing yet: the device now watches the tap
    BOOST_TEST(!n.rx().has_used());
    const auto frame = eth_frame(1200, 3);
    n.host_send(frame);
    run_loop(n, 1000);
    std::vector<virtio::UsedElement> used;
    n.take_all_used(&used, &n.rx());
    BOOST_REQUIRE(used.size() == 3U); // 12 + 1214 bytes over 512-byte buffers
    std::vector<uint8_t> got;
    uint32_t total = 0;
    for (const auto& u : used) {
        const uint8_t* p = n.queues->ram().host(bufs[u.id]);
        got.insert(got.end(), p, p + u.len);
        total += u.len;
    }
    BOOST_TEST(total == VNET_HDR_BYTES + frame.size());
    const VnetHeader h = decode_vnet_header(got.data());
    BOOST_TEST(h.num_buffers == 3);
    BOOST_TEST(h.gso_type == GSO_NONE);
    BOOST_TEST(std::vector<uint8_t>(got.begin() + VNET_HDR_BYTES, got.end()) == frame);
    BOOST_TEST(n.dev->stats().rx_frames == 1U);
}

BOOST_AUTO_TEST_CASE(rx_without_mergeable_buffers_one_chain_per_frame) {
    Net n(ALL & ~F_MRG_RXBUF);
    std::vector<uint64_t> bufs;
    n.add_rx(64, bufs); // too small for the first frame: it is dropped, the buffer kept
    n.add_rx(2048, bufs);
    n.rx().publish();
    n.dev->on_kick(RXQ);
    n.host_send(eth_frame(500, 1));
    n.host_send(eth_frame(20, 2));
    n.host_send(eth_frame(30, 4));
    run_loop(n, 1000);
    std::vector<virtio::UsedElement> used;
    n.take_all_used(&used, &n.rx());
    BOOST_REQUIRE(used.size() == 2U);
    BOOST_TEST(used[0].len == VNET_HDR_BYTES + ETH_HEADER_BYTES + 20);
    BOOST_TEST(decode_vnet_header(n.queues->ram().host(bufs[used[0].id])).num_buffers == 1);
    BOOST_TEST(used[1].len == VNET_HDR_BYTES + ETH_HEADER_BYTES + 30);
    BOOST_TEST(n.dev->stats().rx_dropped == 1U);
    BOOST_TEST(n.dev->stats().rx_frames == 2U);
    BOOST_TEST(n.dev->stats().rx_out_of_buffers >= 1U);
}

BOOST_AUTO_TEST_CASE(malformed_tx_frames_dropped_and_counted) {
    Net n(ALL & ~F_HOST_TSO6);
    auto frame = eth_frame(100, 5);
    // Shorter than the vnet header, and a header with less than an Ethernet header.
    const uint64_t tiny = n.queues->ram().alloc(8);
    BOOST_REQUIRE(n.tx().add({{tiny, 8, false}}).has_value());
    n.add_tx(VnetHeader{}, std::vector<uint8_t>(10, 0));
    n.add_tx(VnetHeader{}, eth_frame(MAX_FRAME_BYTES, 1)); // one byte per frame too many
    VnetHeader bad_flags;
    bad_flags.flags = 4;
    n.add_tx(bad_flags, frame);
    VnetHeader bad_csum;
    bad_csum.flags = HDR_F_NEEDS_CSUM;
    bad_csum.csum_start = 100;
    bad_csum.csum_offset = 16;
    n.add_tx(bad_csum, frame);
    VnetHeader gso_zero;
    gso_zero.flags = HDR_F_NEEDS_CSUM;
    gso_zero.gso_type = GSO_TCPV4;
    gso_zero.hdr_len = 54;
    n.add_tx(gso_zero, frame);
    VnetHeader gso_udp = gso_zero;
    gso_udp.gso_type = GSO_UDP;
    gso_udp.gso_size = 1400;
    n.add_tx(gso_udp, frame);
    VnetHeader gso_v6 = gso_udp; // TSO6 was not acked
    gso_v6.gso_type = GSO_TCPV6;
    n.add_tx(gso_v6, frame);
    VnetHeader gso_hdr_len = gso_udp;
    gso_hdr_len.gso_type = GSO_TCPV4;
    gso_hdr_len.hdr_len = 200;
    n.add_tx(gso_hdr_len, frame);
    n.add_tx(VnetHeader{}, frame); // and a good one after them
    n.tx().publish();
    n.dev->on_kick(TXQ);
    BOOST_TEST(n.take_all_used() == 10U);
    const NetStats& s = n.dev->stats();
    BOOST_TEST(s.tx_too_short == 2U);
    BOOST_TEST(s.tx_too_long == 1U);
    BOOST_TEST(s.tx_bad_header == 6U);
    BOOST_TEST(s.tx_frames == 1U);
    BOOST_TEST(n.host_receive() == frame);
    BOOST_TEST(n.host_receive(200).empty());
}

BOOST_AUTO_TEST_CASE(legacy_ten_byte_header_dropped) {
    Net n(virtio::F_RING_EVENT_IDX); // neither VERSION_1 nor MRG_RXBUF: a 10-byte header
    n.add_tx(VnetHeader{}, eth_frame(64, 1));
    n.tx().publish();
    n.dev->on_kick(TXQ);
    BOOST_TEST(n.take_all_used() == 1U);
    BOOST_TEST(n.dev->stats().tx_bad_header == 1U);
    BOOST_TEST(n.host_receive(200).empty());
}

BOOST_AUTO_TEST_CASE(legacy_driver_with_mergeable_buffers_served) {
    Net n(F_MRG_RXBUF | virtio::F_RING_EVENT_IDX); // QEMU's virtio-mmio is legacy by default
    n.add_tx(VnetHeader{}, eth_frame(64, 1));
    n.tx().publish();
    n.dev->on_kick(TXQ);
    BOOST_TEST(n.take_all_used() == 1U);
    BOOST_TEST(n.host_receive() == eth_frame(64, 1));
}

BOOST_AUTO_TEST_CASE(flooding_guest_served_in_bounded_batches) {
    Net n(ALL);
    for (int i = 0; i < 200; ++i) {
        n.add_tx(VnetHeader{}, eth_frame(46, static_cast<uint8_t>(i)));
    }
    n.tx().publish();
    n.dev->on_kick(TXQ);
    BOOST_TEST(n.take_all_used() == NetDevice::FRAMES_PER_WAKE);
    BOOST_TEST(n.dev->stats().yields == 1U);
    // The rest comes through the loop, a batch per round, with other fds served between.
    size_t total = NetDevice::FRAMES_PER_WAKE;
    for (int round = 0; round < 10 && total < 200; ++round) {
        run_loop(n, 100);
        const size_t batch = n.take_all_used();
        BOOST_TEST(batch <= NetDevice::FRAMES_PER_WAKE);
        total += batch;
    }
    BOOST_TEST(total == 200U);
    BOOST_TEST(n.dev->stats().tx_frames == 200U);
}

BOOST_AUTO_TEST_CASE(flooding_host_served_in_bounded_batches) {
    Net n(ALL & ~F_MRG_RXBUF);
    std::vector<uint64_t> bufs;
    for (int i = 0; i < 200; ++i) {
        n.add_rx(256, bufs);
    }
    n.rx().publish();
    n.dev->on_kick(RXQ);
    for (int i = 0; i < 150; ++i) {
        n.host_send(eth_frame(60, static_cast<uint8_t>(i)));
    }
    run_loop(n, 1000);
    BOOST_TEST(n.take_all_used(nullptr, &n.rx()) == NetDevice::FRAMES_PER_WAKE);
    size_t total = NetDevice::FRAMES_PER_WAKE;
    for (int round = 0; round < 10 && total < 150; ++round) {
        run_loop(n, 100);
        total += n.take_all_used(nullptr, &n.rx());
    }
    BOOST_TEST(total == 150U);
}

BOOST_AUTO_TEST_CASE(adopted_fd_must_be_a_vnet_tap) {
    UniqueFd not_tap(::open("/dev/null", O_RDWR | O_CLOEXEC));
    NetOptions o;
    o.tap_fd = not_tap.release();
    BOOST_TEST(!NetDevice::open(o).ok());
    auto tap = open_tap("rvt1", true);
    REQUIRE_OK(tap);
    NetOptions adopt;
    adopt.tap_fd = tap->fd.release();
    auto dev = NetDevice::open(adopt);
    REQUIRE_OK(dev);
    BOOST_TEST((*dev)->tap_name() == "rvt1");
}

namespace {
// A Boost.Test precondition: the case is reported skipped, with this reason, when iproute2 is
// missing.
boost::test_tools::assertion_result iproute2_present(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result present(std::system("command -v ip >/dev/null") == 0);
    present.message() << "iproute2 (ip) missing";
    return present;
}
} // namespace

BOOST_AUTO_TEST_CASE(tap_deleted_under_the_device_stops_rx_without_spinning,
                     *boost::unit_test::precondition(iproute2_present)) {
    Net n(ALL);
    std::vector<uint64_t> bufs;
    n.add_rx(2048, bufs);
    n.rx().publish();
    n.dev->on_kick(RXQ); // the tap is watched now
    BOOST_REQUIRE(std::system("ip link del rvt0") == 0);
    run_loop(n, 100); // EPOLLERR: the device reads, fails and drops the tap from the loop
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
        run_loop(n, 100);
    }
    // Nothing left to report: each round sleeps its full timeout instead of spinning.
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    BOOST_TEST(waited.count() >= 250);
    n.dev->on_kick(RXQ);
    BOOST_TEST(!n.rx().has_used());
}

BOOST_AUTO_TEST_CASE(through_the_vhost_user_backend) {
    auto dir = TempDir::create("runvm-net-test");
    REQUIRE_OK(dir);
    NetOptions o;
    o.tap_name = "rvt2";
    o.mac = GUEST_MAC;
    auto dev = NetDevice::open(o);
    REQUIRE_OK(dev);
    auto started = DeviceHarness::start(*dir, std::move(*dev), 16 << 20);
    REQUIRE_OK(started);
    DeviceHarness& h = **started;
    auto config = h.frontend().get_config(0, 12);
    REQUIRE_OK(config);
    BOOST_TEST(std::equal(GUEST_MAC.begin(), GUEST_MAC.end(), config->begin()));
    auto rx = h.start_ring(RXQ, 64);
    REQUIRE_OK(rx);
    auto tx = h.start_ring(TXQ, 64);
    REQUIRE_OK(tx);
    int ifindex = 0;
    UniqueFd packet = bring_up_and_listen("rvt2", &ifindex);

    const auto frame = eth_frame(200, 8);
    const uint64_t out = h.memory().alloc(VNET_HDR_BYTES + frame.size());
    std::memset(h.memory().host(out), 0, VNET_HDR_BYTES);
    std::memcpy(h.memory().host(out) + VNET_HDR_BYTES, frame.data(), frame.size());
    BOOST_REQUIRE((*tx)
                      ->add({{out, static_cast<uint32_t>(VNET_HDR_BYTES + frame.size()), false}})
                      .has_value());
    auto sent = h.submit_and_wait(TXQ, 1);
    REQUIRE_OK(sent);
    std::vector<uint8_t> buf(4096);
    for (int tries = 0; tries < 20; ++tries) {
        pollfd p{packet.get(), POLLIN, 0};
        BOOST_REQUIRE(::poll(&p, 1, 2000) == 1);
        const ssize_t n = ::recv(packet.get(), buf.data(), buf.size(), 0);
        if (n > 14 && buf[12] == (TEST_ETHERTYPE >> 8) && buf[13] == (TEST_ETHERTYPE & 0xff)) {
            buf.resize(static_cast<size_t>(n));
            break;
        }
    }
    BOOST_TEST(buf == frame);

    // GUEST_TSO and MRG_RXBUF are acked: the device waits for 64 KiB of buffers (as a
    // Linux guest keeps posted) before it reads a frame that may be that large.
    std::vector<uint64_t> in(64);
    for (int i = 0; i < 40; ++i) {
        const uint64_t b = h.memory().alloc(2048);
        auto head = (*rx)->add({{b, 2048, true}});
        BOOST_REQUIRE(head.has_value());
        in[*head] = b;
    }
    const auto reply = eth_frame(100, 9);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex;
    sll.sll_halen = 6;
    BOOST_REQUIRE(::sendto(packet.get(), reply.data(), reply.size(), 0,
                           reinterpret_cast<sockaddr*>(&sll),
                           sizeof(sll)) == static_cast<ssize_t>(reply.size()));
    auto received = h.submit_and_wait(RXQ, 1);
    REQUIRE_OK(received);
    BOOST_REQUIRE(received->size() == 1U);
    BOOST_TEST((*received)[0].len == VNET_HDR_BYTES + reply.size());
    const uint8_t* got = h.memory().host(in[(*received)[0].id]);
    BOOST_TEST(decode_vnet_header(got).num_buffers == 1);
    BOOST_TEST(std::vector<uint8_t>(got + VNET_HDR_BYTES, got + VNET_HDR_BYTES + reply.size()) ==
               reply);
}

BOOST_AUTO_TEST_CASE(spec_parses_into_options) {
    auto by_fd = parse_options(
        parse_device_spec("/run/n.sock,fd=7,mtu=9000,mac=52:54:00:12:34:56,nooffload", SPEC_KEYS)
            .value());
    BOOST_REQUIRE(by_fd.ok());
    BOOST_TEST(by_fd->tap_fd == 7);
    BOOST_TEST(by_fd->tap_name.empty());
    BOOST_TEST(by_fd->mtu == 9000U);
    BOOST_TEST(by_fd->mac.has_value());
    BOOST_TEST(!by_fd->offloads);
    auto by_name = parse_options(parse_device_spec("/run/n.sock,tap=tap0", SPEC_KEYS).value());
    BOOST_REQUIRE(by_name.ok());
    BOOST_TEST(by_name->tap_name == "tap0");
    BOOST_TEST(by_name->tap_fd == -1);
    BOOST_TEST(by_name->offloads);
    auto later = parse_options(parse_device_spec("/run/n.sock,tap_socket=9", SPEC_KEYS).value());
    BOOST_REQUIRE(later.ok());
    BOOST_TEST(later->tap_socket_fd == 9);
    BOOST_TEST(later->tap_fd == -1);
    const std::pair<const char*, const char*> bad[] = {
        {"/run/n.sock", "give one of tap=, fd=, tap_socket="},
        {"/run/n.sock,tap=t,fd=3", "give one of tap=, fd=, tap_socket="},
        {"/run/n.sock,fd=3,tap_socket=4", "give one of tap=, fd=, tap_socket="},
        {"/run/n.sock,tap_socket=-1", "tap_socket='-1'"},
        {"/run/n.sock,fd=x", "fd='x'"},
        {"/run/n.sock,fd=2147483648", "fd='2147483648'"},
        {"/run/n.sock,tap=t,mtu=67", "mtu='67'"},
        {"/run/n.sock,tap=t,mtu=65536", "mtu='65536'"},
        {"/run/n.sock,tap=t,mac=52:54", "mac '52:54'"},
    };
    for (const auto& [text, why] : bad) {
        auto r = parse_options(parse_device_spec(text, SPEC_KEYS).value());
        BOOST_TEST_INFO(text);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find(why) != std::string::npos);
    }
}

// A pooled VM's device (tap_socket=): booted with no tap, offered one later over a unix
// socket. Before: tx frames go nowhere; a non-tap fd is refused; after: frames flow both
// ways; a second tap is refused; the shim's end closing ends the watch.
BOOST_AUTO_TEST_CASE(tap_offered_later_over_the_tap_socket) {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd shim_end(sv[0]);
    NetOptions o;
    o.tap_socket_fd = sv[1]; // the device owns it from here
    o.mac = GUEST_MAC;
    auto d = NetDevice::open(o);
    REQUIRE_OK(d);
    std::unique_ptr<NetDevice> dev = std::move(*d);
    BOOST_TEST(!dev->has_tap());
    // Offered as a tap made by the plumbing would take them.
    BOOST_TEST((dev->features() & (F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6)) ==
               (F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6));

    auto q = DirectQueues::create(2, 256, 16 << 20, true);
    REQUIRE_OK(q);
    auto l = EventLoop::create();
    REQUIRE_OK(l);
    Context ctx;
    ctx.q = q->get();
    ctx.acked = ALL;
    auto attached = dev->attach(&ctx, l->get());
    REQUIRE_OK(attached);

    auto tx = [&](size_t payload) {
        const auto frame = eth_frame(payload, 5);
        const uint64_t gpa = (*q)->ram().alloc(VNET_HDR_BYTES + frame.size());
        encode_vnet_header(VnetHeader{}, (*q)->ram().host(gpa));
        std::memcpy((*q)->ram().host(gpa) + VNET_HDR_BYTES, frame.data(), frame.size());
        BOOST_REQUIRE((*q)->driver(TXQ)
                          .add({{gpa, static_cast<uint32_t>(VNET_HDR_BYTES + frame.size()), false}})
                          .has_value());
        (*q)->driver(TXQ).publish();
        dev->on_kick(TXQ);
        size_t used = 0;
        while ((*q)->driver(TXQ).take_used()) {
            ++used;
        }
        return used;
    };
    auto offer = [&](int fd) {
        BOOST_REQUIRE(send_with_fds(shim_end.get(), "tap", 3, {fd}, "test").ok());
        auto ran = (*l)->run_once(1000);
        REQUIRE_OK(ran);
        char reply[512] = {};
        const ssize_t n = ::recv(shim_end.get(), reply, sizeof reply - 1, MSG_DONTWAIT);
        return n > 0 ? std::string(reply, static_cast<size_t>(n)) : std::string();
    };

    BOOST_TEST(tx(60) == 1U); // goes back to the guest, nowhere else
    BOOST_TEST(dev->stats().tx_errors == 1U);
    UniqueFd not_a_tap(::open("/dev/null", O_RDWR | O_CLOEXEC));
    const std::string refused = offer(not_a_tap.get());
    BOOST_TEST(refused.rfind("error: TUNGETIFF", 0) == 0, refused);
    BOOST_TEST(!dev->has_tap());

    auto made = open_tap("rvt9", true);
    REQUIRE_OK(made);
    BOOST_TEST(offer(made->fd.get()) == "ok");
    BOOST_TEST(dev->has_tap());
    BOOST_TEST(dev->tap_name() == "rvt9");
    int ifindex = 0;
    UniqueFd packet = bring_up_and_listen("rvt9", &ifindex);
    BOOST_TEST(tx(100) == 1U);
    std::vector<uint8_t> buf(2048);
    pollfd p{packet.get(), POLLIN, 0};
    bool seen = false;
    while (!seen && ::poll(&p, 1, 1000) > 0) {
        const ssize_t n = ::recv(packet.get(), buf.data(), buf.size(), 0);
        seen =
            n == static_cast<ssize_t>(ETH_HEADER_BYTES + 100) && buf[12] == (TEST_ETHERTYPE >> 8);
    }
    BOOST_TEST(seen);
    BOOST_TEST(dev->stats().tx_frames == 1U);

    auto again = open_tap("rvt10", true);
    REQUIRE_OK(again);
    const std::string second = offer(again->fd.get());
    BOOST_TEST(second.find("attached already") != std::string::npos, second);
    BOOST_TEST(dev->tap_name() == "rvt9");

    shim_end.reset(); // the watch ends; the loop does not spin on a hung-up socket
    for (int i = 0; i < 2; ++i) {
        auto ran = (*l)->run_once(100);
        REQUIRE_OK(ran);
    }
    BOOST_TEST(dev->has_tap());
}
