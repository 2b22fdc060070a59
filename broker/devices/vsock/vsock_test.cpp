// virtio-vsock through the real backend with a test "guest" on the rings: guest- and
// host-initiated streams, credit limits, shutdown/reset, and malformed packets.
#define BOOST_TEST_MODULE broker_vsock
#include <cstring>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_socket.hpp"
#include "broker/devices/vsock/device.hpp"
#include "broker/devices/vsock/handshake.hpp"
#include "broker/testing/device_harness.hpp"
#include "broker/testing/require_ok.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;
using namespace runvm::broker::vsock;

namespace {

constexpr uint64_t CID = 3;

struct Guest {
    TempDir dir = TempDir::create("runvm-vsock-test").value();
    std::string uds = dir.file("v.sock"); // vsock.sock is the vhost-user socket
    std::unique_ptr<DeviceHarness> h;
    VirtqueueDriver* rx = nullptr;
    VirtqueueDriver* tx = nullptr;
    std::vector<uint64_t> rx_bufs; // by head
    uint32_t buf_alloc = 64 * 1024;
    uint32_t fwd_cnt = 0;

    Guest() {
        auto dev = VsockDevice::open({uds, CID});
        REQUIRE_OK(dev);
        auto started = DeviceHarness::start(dir, std::move(*dev), 32 << 20);
        REQUIRE_OK(started);
        h = std::move(*started);
        auto r = h->start_ring(RXQ, 64);
        REQUIRE_OK(r);
        rx = *r;
        auto t = h->start_ring(TXQ, 64);
        REQUIRE_OK(t);
        tx = *t;
        rx_bufs.resize(64);
        post_rx(32);
    }
    void post_rx(int n) {
        for (int i = 0; i < n; ++i) {
            const uint64_t b = h->memory().alloc(4096 + HEADER_BYTES);
            auto head = rx->add({{b, 4096 + HEADER_BYTES, true}});
            BOOST_REQUIRE(head.has_value());
            rx_bufs[*head] = b;
        }
        rx->publish();
        BOOST_REQUIRE(h->frontend().kick(RXQ).ok());
    }
    void send(PacketHeader hd, const std::string& payload = "", bool fix_len = true) {
        hd.src_cid = hd.src_cid ? hd.src_cid : CID;
        hd.dst_cid = hd.dst_cid ? hd.dst_cid : HOST_CID;
        hd.type = hd.type ? hd.type : TYPE_STREAM;
        if (fix_len) {
            hd.len = static_cast<uint32_t>(payload.size());
        }
        hd.buf_alloc = buf_alloc;
        hd.fwd_cnt = fwd_cnt;
        const uint64_t b = h->memory().alloc(HEADER_BYTES + payload.size() + 1);
        encode_header(hd, h->memory().host(b));
        std::memcpy(h->memory().host(b) + HEADER_BYTES, payload.data(), payload.size());
        BOOST_REQUIRE(tx->add({{b, static_cast<uint32_t>(HEADER_BYTES + payload.size()), false}})
                          .has_value());
        auto used = h->submit_and_wait(TXQ, 1);
        REQUIRE_OK(used);
    }
    // Next packet to the guest, with its payload; fails the test after a timeout.
    std::pair<PacketHeader, std::string> receive(int timeout_ms = 3000) {
        for (int waited = 0; waited < timeout_ms; waited += 10) {
            if (auto e = rx->take_used()) {
                BOOST_REQUIRE(e->len >= HEADER_BYTES);
                const uint8_t* p = h->memory().host(rx_bufs[e->id]);
                PacketHeader hd = decode_header(p);
                std::string data(reinterpret_cast<const char*>(p) + HEADER_BYTES,
                                 e->len - HEADER_BYTES);
                post_rx(1);
                return {hd, data};
            }
            (void)h->frontend().wait_call(RXQ, 10);
        }
        BOOST_FAIL("no packet for the guest");
        return {};
    }
    bool nothing_received(int ms) {
        (void)h->frontend().wait_call(RXQ, ms);
        return rx->used_idx() == rx_last();
    }
    uint16_t rx_last() {
        return static_cast<uint16_t>(rx->avail_idx() - 32); // every used one was re-posted
    }
};

PacketHeader hdr(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t flags = 0) {
    PacketHeader h;
    h.op = op;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.flags = flags;
    return h;
}

std::string read_some(int fd, size_t want, int timeout_ms = 3000) {
    std::string out;
    while (out.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            break;
        }
        char buf[65536];
        const ssize_t n = ::read(fd, buf, std::min(sizeof(buf), want - out.size()));
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(handshake_lines) {
    auto ok = parse_connect_line("CONNECT 1024\nrest");
    BOOST_TEST((ok.status == ConnectLine::Status::complete));
    BOOST_TEST(ok.port == 1024u);
    BOOST_TEST(ok.length == 13u);
    BOOST_TEST((parse_connect_line("CONN").status == ConnectLine::Status::incomplete));
    BOOST_TEST((parse_connect_line("CONNECT x\n").status == ConnectLine::Status::invalid));
    BOOST_TEST(
        (parse_connect_line("CONNECT 99999999999\n").status == ConnectLine::Status::invalid));
    BOOST_TEST((parse_connect_line("GET / HTTP/1.0\n").status == ConnectLine::Status::invalid));
    BOOST_TEST(ok_line(7) == "OK 7\n");
}

BOOST_AUTO_TEST_CASE(guest_connects_to_a_host_listener) {
    Guest g;
    auto listener = listen_unix(g.uds + "_5000", 4);
    REQUIRE_OK(listener);
    g.send(hdr(OP_REQUEST, 1234, 5000));
    auto [resp, none] = g.receive();
    BOOST_TEST(resp.op == OP_RESPONSE);
    BOOST_TEST(resp.src_port == 5000u);
    BOOST_TEST(resp.dst_port == 1234u);
    BOOST_TEST(resp.dst_cid == CID);
    BOOST_TEST(resp.buf_alloc == HOST_BUF_ALLOC);
    ::usleep(50000);
    auto host = accept_unix(listener->get(), false, "test listener");
    REQUIRE_OK(host);
    BOOST_REQUIRE(host->valid());

    g.send(hdr(OP_RW, 1234, 5000), "ping from guest");
    BOOST_TEST(read_some(host->get(), 15) == "ping from guest");
    BOOST_REQUIRE(::write(host->get(), "pong", 4) == 4);
    auto [data, payload] = g.receive();
    BOOST_TEST(data.op == OP_RW);
    BOOST_TEST(payload == "pong");
    // The host closes: the guest hears SHUTDOWN(SEND); its own full shutdown ends it.
    host->reset();
    auto [shut, nothing] = g.receive();
    BOOST_TEST(shut.op == OP_SHUTDOWN);
    BOOST_TEST(shut.flags == SHUTDOWN_SEND);
    g.send(hdr(OP_SHUTDOWN, 1234, 5000, SHUTDOWN_SEND | SHUTDOWN_RCV));
    auto [rst, nothing2] = g.receive();
    BOOST_TEST(rst.op == OP_RST);
}

BOOST_AUTO_TEST_CASE(host_connects_to_a_guest_port_and_credit_is_respected) {
    Guest g;
    g.buf_alloc = 8192; // the guest can take 8 KiB before it frees space
    auto client = connect_unix(g.uds, false);
    REQUIRE_OK(client);
    BOOST_REQUIRE(::write(client->get(), "CONNECT 1024\n", 13) == 13);
    auto [req, none] = g.receive();
    BOOST_TEST(req.op == OP_REQUEST);
    BOOST_TEST(req.dst_port == 1024u);
    const uint32_t host_port = req.src_port;
    g.send(hdr(OP_RESPONSE, 1024, host_port));
    const std::string ok = read_some(client->get(), ok_line(host_port).size());
    BOOST_TEST(ok == ok_line(host_port));

    std::string big(100000, 'x');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    BOOST_REQUIRE(::send(client->get(), big.data(), big.size(), 0) ==
                  static_cast<ssize_t>(big.size()));
    std::string got;
    while (got.size() < 8192) {
        auto [p, payload] = g.receive();
        BOOST_REQUIRE(p.op == OP_RW);
        got += payload;
    }
    BOOST_TEST(got.size() == 8192u);
    BOOST_TEST(g.nothing_received(200)); // out of credit: the device waits
    // The guest consumed everything: a credit update lets the rest flow.
    g.buf_alloc = 1 << 20;
    g.fwd_cnt = 8192;
    g.send(hdr(OP_CREDIT_UPDATE, 1024, host_port));
    while (got.size() < big.size()) {
        auto [p, payload] = g.receive();
        BOOST_REQUIRE(p.op == OP_RW);
        got += payload;
    }
    BOOST_TEST((got == big));
}

BOOST_AUTO_TEST_CASE(refused_and_malformed_packets_get_resets) {
    Guest g;
    g.send(hdr(OP_REQUEST, 1, 4444)); // nobody listens on <uds>_4444
    BOOST_TEST(g.receive().first.op == OP_RST);
    g.send(hdr(OP_RW, 1, 4444), "data for no connection");
    BOOST_TEST(g.receive().first.op == OP_RST);
    g.send(hdr(99, 1, 4444));
    BOOST_TEST(g.receive().first.op == OP_RST);
    auto bad_len = hdr(OP_RW, 1, 4444);
    bad_len.len = 5000; // more than the packet carries
    g.send(bad_len, "short", false);
    BOOST_TEST(g.receive().first.op == OP_RST);
    auto bad_type = hdr(OP_REQUEST, 1, 4444);
    bad_type.type = 2;
    g.send(bad_type);
    BOOST_TEST(g.receive().first.op == OP_RST);
    auto wrong_cid = hdr(OP_REQUEST, 1, 4444);
    wrong_cid.src_cid = 77; // spoofed source: dropped silently
    g.send(wrong_cid);
    BOOST_TEST(g.nothing_received(200));
    auto* dev = dynamic_cast<VsockDevice*>(&g.h->server().device());
    BOOST_REQUIRE(dev != nullptr);
    // Still a working device.
    auto listener = listen_unix(g.uds + "_5001", 4);
    REQUIRE_OK(listener);
    g.send(hdr(OP_REQUEST, 2, 5001));
    BOOST_TEST(g.receive().first.op == OP_RESPONSE);
}

BOOST_AUTO_TEST_CASE(bad_connect_line_closes_the_client) {
    Guest g;
    auto client = connect_unix(g.uds, false);
    REQUIRE_OK(client);
    BOOST_REQUIRE(::write(client->get(), "HELLO\n", 6) == 6);
    char c;
    pollfd p{client->get(), POLLIN, 0};
    BOOST_REQUIRE(::poll(&p, 1, 3000) == 1);
    BOOST_TEST(::read(client->get(), &c, 1) <= 0); // EOF, or ECONNRESET: the line was unread
}

BOOST_AUTO_TEST_CASE(host_data_waits_for_rx_buffers_and_resumes_in_order) {
    Guest g;
    g.buf_alloc = 1 << 20;
    auto client = connect_unix(g.uds, false);
    REQUIRE_OK(client);
    BOOST_REQUIRE(::write(client->get(), "CONNECT 1024\n", 13) == 13);
    auto [req, none] = g.receive();
    BOOST_REQUIRE(req.op == OP_REQUEST);
    const uint32_t host_port = req.src_port;
    g.send(hdr(OP_RESPONSE, 1024, host_port));
    BOOST_TEST(read_some(client->get(), ok_line(host_port).size()) == ok_line(host_port));

    // More than the 32 posted 4 KiB buffers hold: the device fills them all, then waits
    // for the guest's next buffers (and their kick) with the rest still in the socket.
    std::string big(200000, 'x');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + (i * 7) % 26);
    }
    const uint16_t before = g.rx->used_idx();
    std::thread writer([&] { (void)::send(client->get(), big.data(), big.size(), MSG_NOSIGNAL); });
    for (int waited = 0; waited < 3000 && static_cast<uint16_t>(g.rx->used_idx() - before) < 32;
         waited += 10) {
        (void)g.h->frontend().wait_call(RXQ, 10);
    }
    BOOST_TEST(static_cast<uint16_t>(g.rx->used_idx() - before) == 32u);
    (void)g.h->frontend().wait_call(RXQ, 100);
    BOOST_TEST(static_cast<uint16_t>(g.rx->used_idx() - before) == 32u);
    std::string got;
    while (got.size() < big.size()) {
        auto [p, payload] = g.receive(); // re-posts one buffer each time
        BOOST_REQUIRE(p.op == OP_RW);
        BOOST_REQUIRE(!payload.empty());
        got += payload;
    }
    writer.join();
    BOOST_TEST((got == big));
    // Drained: no empty or spurious packet follows.
    BOOST_TEST(g.nothing_received(100));
}

BOOST_AUTO_TEST_CASE(spec_parses_into_options) {
    auto defaults =
        vsock::parse_options(parse_device_spec("/run/v.sock", vsock::SPEC_KEYS).value());
    BOOST_REQUIRE(defaults.ok());
    BOOST_TEST(defaults->uds_path == "/run/v.sock.host");
    BOOST_TEST(defaults->guest_cid == 3U);
    auto given = vsock::parse_options(
        parse_device_spec("/run/v.sock,uds=/run/h.sock,cid=42", vsock::SPEC_KEYS).value());
    BOOST_REQUIRE(given.ok());
    BOOST_TEST(given->uds_path == "/run/h.sock");
    BOOST_TEST(given->guest_cid == 42U);
    for (const char* bad : {"cid=2", "cid=4294967295", "cid=x", "cid=", "cid=-3", "cid=3x"}) {
        auto r = vsock::parse_options(
            parse_device_spec(std::string("/run/v.sock,") + bad, vsock::SPEC_KEYS).value());
        BOOST_TEST_INFO(bad);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("vsock /run/v.sock: cid='") != std::string::npos);
    }
}
