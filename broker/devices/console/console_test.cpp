// virtio-console through the real backend: guest output lands in the log, in order,
// from direct and indirect chains; receive buffers stay untouched.
#define BOOST_TEST_MODULE broker_console
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "base/io.hpp"
#include "broker/devices/console/device.hpp"
#include "broker/testing/device_harness.hpp"
#include "broker/testing/require_ok.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;

namespace {

// A console device with its transmit ring (64 entries) started.
Result<std::unique_ptr<DeviceHarness>> console_harness(TempDir& dir, console::ConsoleOptions o) {
    RUNVM_ASSIGN_OR_RETURN(auto dev, console::ConsoleDevice::open(std::move(o)));
    RUNVM_ASSIGN_OR_RETURN(auto h, DeviceHarness::start(dir, std::move(dev)));
    RUNVM_TRY(h->start_ring(console::TRANSMITQ, 64));
    return h;
}

} // namespace

BOOST_AUTO_TEST_CASE(guest_output_is_appended_to_the_log) {
    auto dir = TempDir::create("runvm-console-test");
    REQUIRE_OK(dir);
    const std::string log = dir->file("console.log");
    auto dev = console::ConsoleDevice::open({log});
    REQUIRE_OK(dev);
    auto h = DeviceHarness::start(*dir, std::move(*dev));
    REQUIRE_OK(h);
    auto rx = (*h)->start_ring(console::RECEIVEQ, 64);
    REQUIRE_OK(rx);
    auto tx = (*h)->start_ring(console::TRANSMITQ, 64);
    REQUIRE_OK(tx);
    TestGuestMemory& m = (*h)->memory();
    const uint64_t in = m.alloc(128);
    (*rx)->add({{in, 128, true}});
    (*rx)->publish();
    BOOST_REQUIRE((*h)->frontend().kick(console::RECEIVEQ).ok());

    const std::string parts[] = {"Linux version 6.1\n", "hello ", "from the guest\n"};
    uint64_t a = m.alloc(64), b = m.alloc(64), c = m.alloc(64);
    std::memcpy(m.host(a), parts[0].data(), parts[0].size());
    std::memcpy(m.host(b), parts[1].data(), parts[1].size());
    std::memcpy(m.host(c), parts[2].data(), parts[2].size());
    (*tx)->add({{a, static_cast<uint32_t>(parts[0].size()), false}});
    (*tx)->add({{b, static_cast<uint32_t>(parts[1].size()), false},
                {c, static_cast<uint32_t>(parts[2].size()), false}},
               true);
    auto used = (*h)->submit_and_wait(console::TRANSMITQ, 2);
    REQUIRE_OK(used);
    auto text = read_file(log);
    REQUIRE_OK(text);
    BOOST_TEST(*text == "Linux version 6.1\nhello from the guest\n");
    BOOST_TEST((*h)->ring(console::RECEIVEQ).used_idx() == 0);
}

// Plan step 7: the transmit ring stopped (GET_VRING_BASE) with lines still available, a NEW
// console device (a restored VM's broker, its own log) started at the stopped index on the
// same memory writes exactly the rest: the two logs together are every line once, in order.
BOOST_AUTO_TEST_CASE(a_new_device_at_the_stopped_index_writes_each_line_once) {
    auto dir = TempDir::create("runvm-console-test");
    REQUIRE_OK(dir);
    auto h = console_harness(*dir, {dir->file("a.log")});
    REQUIRE_OK(h);
    auto* tx = &(*h)->ring(console::TRANSMITQ);
    TestGuestMemory& m = (*h)->memory();
    constexpr int kLines = 30, kFirst = 10;
    std::string all;
    auto add_line = [&](int i) {
        const std::string line = "line " + std::to_string(i) + "\n";
        all += line;
        const uint64_t at = m.alloc(line.size());
        std::memcpy(m.host(at), line.data(), line.size());
        BOOST_REQUIRE(tx->add({{at, static_cast<uint32_t>(line.size()), false}}).has_value());
    };
    for (int i = 0; i < kFirst; ++i) {
        add_line(i);
    }
    auto used = (*h)->submit_and_wait(console::TRANSMITQ, kFirst);
    REQUIRE_OK(used);
    for (int i = kFirst; i < kLines; ++i) {
        add_line(i);
    }
    tx->publish();
    auto base = (*h)->frontend().stop_ring(console::TRANSMITQ);
    REQUIRE_OK(base);
    BOOST_TEST(*base == static_cast<uint32_t>(kFirst));

    auto second = console::ConsoleDevice::open({dir->file("b.log")});
    REQUIRE_OK(second);
    auto handed = hand_over_ring(*dir, "console2.sock", std::move(*second), m, console::TRANSMITQ,
                                 *tx, static_cast<uint16_t>(*base));
    REQUIRE_OK(handed);
    auto& fe = handed->frontend;
    for (int i = 0; i < 500 && tx->used_idx() != kLines; ++i) {
        BOOST_REQUIRE(fe->wait_call(console::TRANSMITQ, 10).ok());
    }
    BOOST_TEST_REQUIRE(tx->used_idx() == kLines);
    handed->server->stop();
    auto a_log = read_file(dir->file("a.log"));
    auto b_log = read_file(dir->file("b.log"));
    REQUIRE_OK(a_log);
    REQUIRE_OK(b_log);
    BOOST_TEST(*a_log + *b_log == all);
    BOOST_TEST(a_log->size() == all.find("line " + std::to_string(kFirst) + "\n"));
}

BOOST_AUTO_TEST_CASE(spec_parses_into_options) {
    auto o = console::parse_options(
        parse_device_spec("/run/c.sock,log=/var/log/c", console::SPEC_KEYS).value());
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(o->log_path == "/var/log/c");
    auto no_log =
        console::parse_options(parse_device_spec("/run/c.sock", console::SPEC_KEYS).value());
    BOOST_REQUIRE(!no_log.ok());
    BOOST_TEST(no_log.error().str().find("log= is required") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_flood_leaves_the_log_within_its_cap_newest_kept) {
    auto dir = TempDir::create("runvm-console-test");
    REQUIRE_OK(dir);
    const std::string log = dir->file("console.log");
    constexpr uint64_t cap = 8192;
    auto h = console_harness(*dir, {log, cap});
    REQUIRE_OK(h);
    auto* tx = &(*h)->ring(console::TRANSMITQ);
    TestGuestMemory& m = (*h)->memory();
    constexpr int chains = 40; // 10x the cap, 2 KiB each
    std::string all;
    for (int i = 0; i < chains; ++i) {
        std::string chunk(2047, static_cast<char>('a' + i % 26));
        chunk += '\n';
        all += chunk;
        const uint64_t a = m.alloc(chunk.size());
        std::memcpy(m.host(a), chunk.data(), chunk.size());
        tx->add({{a, static_cast<uint32_t>(chunk.size()), false}});
    }
    auto used = (*h)->submit_and_wait(console::TRANSMITQ, chains);
    REQUIRE_OK(used);
    auto now = read_file(log);
    auto old = read_file(log + ".1");
    REQUIRE_OK(now);
    REQUIRE_OK(old);
    BOOST_TEST(now->size() <= cap / 2);
    BOOST_TEST(old->size() <= cap / 2);
    const std::string kept = *old + *now;
    BOOST_TEST(kept.size() == cap);
    BOOST_TEST(all.substr(all.size() - kept.size()) == kept);
    auto big = console::parse_options(
        parse_device_spec("/run/c.sock,log=/l,log_max_kib=64", console::SPEC_KEYS).value());
    BOOST_REQUIRE(big.ok());
    BOOST_TEST(big->log_max_bytes == 64u * 1024);
    BOOST_TEST(
        !console::parse_options(
             parse_device_spec("/run/c.sock,log=/l,log_max_kib=1", console::SPEC_KEYS).value())
             .ok());
}
