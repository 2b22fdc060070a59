// Hybrid vsock handshake, stdio bridge and control channel against real sockets and pipes.
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/sandbox/hybrid_vsock.hpp"
#include "shim/sandbox/stdio_bridge.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using namespace std::chrono_literals;
using runvm::shim::testing::TempDir;

namespace {

std::string read_some(int fd) {
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A fake broker side of the hybrid vsock socket: answers each CONNECT with `reply`, then
// echoes one message.
std::thread fake_vsock_server(int listen_fd, std::string reply) {
    return std::thread([listen_fd, reply] {
        runvm::set_nonblocking(listen_fd, false, "test").ok();
        UniqueFd c(::accept(listen_fd, nullptr, nullptr));
        std::string line;
        char ch;
        while (::read(c.get(), &ch, 1) == 1 && ch != '\n') {
            line.push_back(ch);
        }
        if (line != "CONNECT 1024") {
            return;
        }
        if (!reply.empty()) {
            (void)write_all(c.get(), reply.data(), reply.size(), "test");
        } else {
            std::this_thread::sleep_for(700ms); // never answers in time
            return;
        }
        const std::string got = read_some(c.get());
        (void)write_all(c.get(), got.data(), got.size(), "test");
    });
}

} // namespace

BOOST_AUTO_TEST_CASE(vsock_ok_line_is_parsed_strictly) {
    BOOST_TEST(parse_vsock_ok("OK 1073741824").value() == 1073741824u);
    BOOST_TEST(!parse_vsock_ok("OK").ok());
    BOOST_TEST(!parse_vsock_ok("OK 12x").ok());
    BOOST_TEST(!parse_vsock_ok("ERR no listener").ok());
    BOOST_TEST(!parse_vsock_ok("OK 99999999999").ok());
}

BOOST_AUTO_TEST_CASE(vsock_connect_handshakes_then_streams) {
    TempDir d;
    auto l = listen_unix(d.path + "/vsock", 4);
    BOOST_REQUIRE(l.ok());
    auto server = fake_vsock_server(l->get(), "OK 5000\n");
    auto fd = vsock_connect(d.path + "/vsock", 1024, 2s);
    BOOST_REQUIRE_MESSAGE(fd.ok(), (fd.ok() ? "" : fd.error().str()));
    BOOST_REQUIRE(write_all(fd->get(), "ping", 4, "test").ok());
    BOOST_TEST(read_some(fd->get()) == "ping");
    server.join();
}

BOOST_AUTO_TEST_CASE(vsock_connect_times_out_on_a_silent_peer) {
    TempDir d;
    auto l = listen_unix(d.path + "/vsock", 4);
    BOOST_REQUIRE(l.ok());
    auto server = fake_vsock_server(l->get(), "");
    const auto t0 = std::chrono::steady_clock::now();
    auto fd = vsock_connect(d.path + "/vsock", 1024, 200ms);
    BOOST_TEST(!fd.ok());
    BOOST_TEST(fd.error().code() == ETIMEDOUT);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 650ms));
    server.join();
}

BOOST_AUTO_TEST_CASE(vsock_retry_stops_when_the_vm_died) {
    TempDir d;
    int asked = 0;
    auto fd = vsock_connect_retry(d.path + "/absent", 1024, std::chrono::steady_clock::now() + 5s,
                                  [&]() -> Result<void> {
                                      if (++asked == 3) {
                                          return Err(Error::msg("qemu exited with status 1"));
                                      }
                                      return Ok();
                                  });
    BOOST_REQUIRE(!fd.ok());
    BOOST_TEST(fd.error().str() == "qemu exited with status 1");
    BOOST_TEST(asked == 3);
}

BOOST_AUTO_TEST_CASE(vsock_retry_reports_the_deadline) {
    TempDir d;
    auto fd = vsock_connect_retry(d.path + "/absent", 1024,
                                  std::chrono::steady_clock::now() + 100ms, nullptr);
    BOOST_REQUIRE(!fd.ok());
    BOOST_TEST(fd.error().code() == ETIMEDOUT);
    BOOST_TEST(fd.error().str().find("did not answer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_agent_dialing_in_is_accepted_on_the_host_port_path) {
    TempDir d;
    const std::string path = vsock_host_port_path(d.path + "/vsock", 1024);
    BOOST_TEST(path == d.path + "/vsock_1024");
    auto listener = listen_unix(path, 1);
    BOOST_REQUIRE(listener.ok());
    int asked = 0;
    std::thread guest([&] {
        std::this_thread::sleep_for(60ms); // a few polls of the VM first
        auto c = connect_unix(path, false);
        BOOST_REQUIRE(c.ok());
        BOOST_REQUIRE(::write(c->get(), "hi", 2) == 2);
    });
    auto fd = vsock_accept_guest(listener->get(), std::chrono::steady_clock::now() + 5s,
                                 [&]() -> Result<void> {
                                     ++asked;
                                     return Ok();
                                 });
    guest.join();
    BOOST_REQUIRE(fd.ok());
    BOOST_TEST(read_some(fd->get()) == "hi");
    BOOST_TEST(asked >= 2);
    // Blocking, as the RPC client wants it.
    BOOST_TEST((::fcntl(fd->get(), F_GETFL) & O_NONBLOCK) == 0);
}

BOOST_AUTO_TEST_CASE(waiting_for_the_agent_stops_when_the_vm_died_or_at_the_deadline) {
    TempDir d;
    auto listener = listen_unix(d.path + "/vsock_1024", 1);
    BOOST_REQUIRE(listener.ok());
    int asked = 0;
    auto died = vsock_accept_guest(listener->get(), std::chrono::steady_clock::now() + 5s,
                                   [&]() -> Result<void> {
                                       if (++asked == 3) {
                                           return Err(Error::msg("qemu exited with status 1"));
                                       }
                                       return Ok();
                                   });
    BOOST_REQUIRE(!died.ok());
    BOOST_TEST(died.error().str() == "qemu exited with status 1");
    BOOST_TEST(asked == 3);
    const auto t0 = std::chrono::steady_clock::now();
    auto late = vsock_accept_guest(listener->get(), t0 + 100ms, nullptr);
    BOOST_REQUIRE(!late.ok());
    BOOST_TEST(late.error().code() == ETIMEDOUT);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

BOOST_AUTO_TEST_CASE(stdio_bridge_copies_both_ways_and_reports_output_eof) {
    TempDir d;
    int in[2], out[2], err[2];
    BOOST_REQUIRE(::pipe(in) == 0 && ::pipe(out) == 0 && ::pipe(err) == 0);
    UniqueFd in_w(in[1]), out_r(out[0]), err_r(err[0]);
    StdioFds fds{UniqueFd(in[0]), UniqueFd(out[1]), UniqueFd(err[1])};
    auto bridge = StdioBridge::open(d.path + "/vsock", 4000, std::move(fds));
    BOOST_REQUIRE(bridge.ok());
    const auto& ports = (*bridge)->ports();
    BOOST_TEST(ports.stdin_port == 4000u);
    BOOST_TEST(ports.stderr_port == 4002u);
    // The "guest" dials each stream the way the broker delivers them.
    auto g_in = connect_unix(d.path + "/vsock_4000", false);
    auto g_out = connect_unix(d.path + "/vsock_4001", false);
    auto g_err = connect_unix(d.path + "/vsock_4002", false);
    BOOST_REQUIRE(g_in.ok() && g_out.ok() && g_err.ok());
    BOOST_REQUIRE(write_all(in_w.get(), "input", 5, "t").ok());
    BOOST_TEST(read_some(g_in->get()) == "input");
    in_w.reset(); // host stdin EOF -> the guest's stdin sees EOF
    BOOST_TEST(read_some(g_in->get()).empty());
    BOOST_REQUIRE(write_all(g_out->get(), "output", 6, "t").ok());
    BOOST_REQUIRE(write_all(g_err->get(), "errors", 6, "t").ok());
    BOOST_TEST(read_some(out_r.get()) == "output");
    BOOST_TEST(read_some(err_r.get()) == "errors");
    BOOST_TEST(!(*bridge)->wait_output_done(50ms));
    g_out->reset();
    g_err->reset();
    BOOST_TEST((*bridge)->wait_output_done(2s));
    BOOST_TEST(read_some(out_r.get()).empty()); // the host side got EOF too
    bridge->reset();
    BOOST_TEST(::access((d.path + "/vsock_4000").c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(stdio_bridge_terminal_carries_both_ways_on_the_stdout_stream) {
    // The agent's PtyRelay dials the stdout port only and relays both directions on it.
    TempDir d;
    int in[2], out[2];
    BOOST_REQUIRE(::pipe(in) == 0 && ::pipe(out) == 0);
    UniqueFd in_w(in[1]), out_r(out[0]);
    StdioFds fds{UniqueFd(in[0]), UniqueFd(out[1]), UniqueFd()};
    auto bridge = StdioBridge::open(d.path + "/vsock", 4000, std::move(fds), true);
    BOOST_REQUIRE(bridge.ok());
    BOOST_TEST((*bridge)->ports().stdin_port == 0u);
    BOOST_TEST((*bridge)->ports().stdout_port == 4001u);
    BOOST_TEST(::access((d.path + "/vsock_4000").c_str(), F_OK) != 0);
    // Typed before the guest connected: kept in the host fd until then.
    BOOST_REQUIRE(write_all(in_w.get(), "early\n", 6, "t").ok());
    auto g = connect_unix(d.path + "/vsock_4001", false);
    BOOST_REQUIRE(g.ok());
    BOOST_TEST(read_some(g->get()) == "early\n");
    BOOST_REQUIRE(write_all(in_w.get(), "ls\n", 3, "t").ok());
    BOOST_TEST(read_some(g->get()) == "ls\n");
    BOOST_REQUIRE(write_all(g->get(), "prompt", 6, "t").ok());
    BOOST_TEST(read_some(out_r.get()) == "prompt");
    g->reset(); // the guest's terminal closed: output done, input no longer carried
    BOOST_TEST((*bridge)->wait_output_done(2s));
}

BOOST_AUTO_TEST_CASE(control_channel_carries_json_and_fds) {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    ControlChannel a{UniqueFd(sv[0])};
    ControlChannel b{UniqueFd(sv[1])};
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    UniqueFd pr(p[0]), pw(p[1]);
    BOOST_REQUIRE(a.send({{"op", "exec"}, {"n", 1}}, {pw.get()}).ok());
    BOOST_REQUIRE(a.send({{"op", "second"}}).ok());
    auto m = b.receive(1s);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(m->body["op"] == "exec");
    BOOST_REQUIRE(m->fds.size() == 1u);
    BOOST_REQUIRE(write_all(m->fds[0].get(), "x", 1, "t").ok());
    BOOST_TEST(read_some(pr.get()) == "x");
    auto m2 = b.receive(1s);
    BOOST_REQUIRE(m2.ok());
    BOOST_TEST(m2->body["op"] == "second");
    BOOST_TEST(m2->fds.empty());
    auto none = b.receive(50ms);
    BOOST_TEST(!none.ok());
    BOOST_TEST(none.error().code() == ETIMEDOUT);
    BOOST_REQUIRE(write_all(sv[0], "[1,2]\n", 6, "t").ok());
    BOOST_TEST(b.receive(1s).error().code() == EPROTO);
}
