// The shim's plumbing with real processes, FIFOs, ptys and sockets: spawn and reaper,
// containerd's stdio FIFOs, the console socket, the event publisher.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "containerd/api/events/task.pb.h"
#include "shim/container/console.hpp"
#include "shim/containerd/console_receiver.hpp"
#include "shim/containerd/event_publisher.hpp"
#include "shim/containerd/event_sink_test_support.hpp"
#include "shim/containerd/process_io.hpp"
#include "shim/containerd/reaper.hpp"
#include "shim/containerd/spawn.hpp"
#include "shim/containerd/test_reaper.hpp"

using namespace runvm;
using namespace runvm::containerd;
using namespace std::chrono_literals;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        std::string t = "/tmp/runvm-shim-test-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(t.data()));
        path = t;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string fifo(const std::string& name) const {
        const std::string p = path + "/" + name;
        BOOST_REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
        return p;
    }
};

std::string read_some(int fd, int timeout_ms = 5000) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, timeout_ms) <= 0) {
        return "<timeout>";
    }
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int p[2];
        BOOST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        r = UniqueFd(p[0]);
        w = UniqueFd(p[1]);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(spawn_and_reaper)

BOOST_AUTO_TEST_CASE(exit_status_and_stdio_placement) {
    Pipe out;
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", "echo out; echo err >&2; echo three >&3; exit 7"};
    spec.stdio = {-1, out.w.get(), out.w.get()};
    Pipe extra;
    spec.extra_fd = extra.w.get();
    auto pid = spawn_process(spec);
    BOOST_REQUIRE(pid.ok());
    out.w.reset();
    extra.w.reset();
    auto code = test::reaper().wait(pid->pid(), 10s);
    BOOST_REQUIRE(code.has_value());
    BOOST_TEST(*code == 7);
    std::string all;
    for (std::string s; !(s = read_some(out.r.get(), 1000)).empty() && s != "<timeout>";) {
        all += s;
    }
    BOOST_TEST(all == "out\nerr\n");
    BOOST_TEST(read_some(extra.r.get()) == "three\n");
}

BOOST_AUTO_TEST_CASE(watch_after_the_exit_still_reports_it) {
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", "kill -9 $$"};
    auto pid = spawn_process(spec);
    BOOST_REQUIRE(pid.ok());
    std::this_thread::sleep_for(300ms); // reaped before anyone watches
    std::promise<int> got;
    test::reaper().watch(pid->pid(), [&](int code) { got.set_value(code); });
    auto f = got.get_future();
    BOOST_REQUIRE(f.wait_for(5s) == std::future_status::ready);
    BOOST_TEST(f.get() == 137);
}

BOOST_AUTO_TEST_CASE(exec_failure_is_127_and_wait_times_out) {
    SpawnSpec spec;
    spec.argv = {"/nonexistent/binary"};
    auto pid = spawn_process(spec);
    BOOST_REQUIRE(pid.ok());
    BOOST_TEST(test::reaper().wait(pid->pid(), 5s).value_or(-1) == 127);
    spec.argv = {"/bin/sleep", "5"};
    auto sleeper = spawn_process(spec);
    BOOST_REQUIRE(sleeper.ok());
    BOOST_TEST(!test::reaper().wait(sleeper->pid(), 100ms).has_value());
    BOOST_REQUIRE(sleeper->signal(SIGKILL).ok());
    BOOST_TEST(test::reaper().wait(sleeper->pid(), 5s).value_or(-1) == 137);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(process_io)

BOOST_AUTO_TEST_CASE(fifos_reach_the_process_and_eof_follows_containerd_closing_stdin) {
    TempDir d;
    IoPaths paths{d.fifo("in"), d.fifo("out"), d.fifo("err"), false};
    // containerd (ctr) holds the read side of stdout/stderr open before Create.
    UniqueFd out_reader(::open(paths.stdout_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    auto io = ProcessIo::open(paths);
    BOOST_REQUIRE(io.ok());
    // No writer has come yet: the process must not see EOF.
    pollfd pf{(*io)->process_stdin(), POLLIN, 0};
    BOOST_TEST(::poll(&pf, 1, 200) == 0);
    {
        UniqueFd writer(::open(paths.stdin_path.c_str(), O_WRONLY | O_CLOEXEC));
        BOOST_REQUIRE(writer.valid());
        BOOST_REQUIRE(write_all(writer.get(), "hello", 5, "stdin fifo").ok());
    }
    BOOST_TEST(read_some((*io)->process_stdin()) == "hello");
    BOOST_TEST(read_some((*io)->process_stdin()).empty()); // EOF after the writer closed
    BOOST_REQUIRE(write_all((*io)->process_stdout(), "out!", 4, "stdout").ok());
    BOOST_TEST(read_some(out_reader.get()) == "out!");
}

BOOST_AUTO_TEST_CASE(close_io_ends_stdin_while_containerd_keeps_it_open) {
    TempDir d;
    IoPaths paths{d.fifo("in"), "", "", false};
    auto io = ProcessIo::open(paths);
    BOOST_REQUIRE(io.ok());
    UniqueFd writer(::open(paths.stdin_path.c_str(), O_WRONLY | O_CLOEXEC));
    BOOST_REQUIRE(writer.valid());
    (*io)->close_stdin();
    BOOST_TEST(read_some((*io)->process_stdin()).empty());
}

BOOST_AUTO_TEST_CASE(file_uri_appends_and_binary_uri_is_refused) {
    TempDir d;
    const std::string log = d.path + "/out.log";
    auto io = ProcessIo::open({"", "file://" + log, "", false});
    BOOST_REQUIRE(io.ok());
    BOOST_REQUIRE(write_all((*io)->process_stdout(), "line\n", 5, "stdout").ok());
    BOOST_TEST(*read_file(log) == "line\n");
    auto bin = ProcessIo::open({"", "binary:///usr/bin/logger?x=1", "", false});
    BOOST_REQUIRE(!bin.ok());
    BOOST_TEST(bin.error().code() == ENOTSUP);
}

BOOST_AUTO_TEST_CASE(terminal_copies_both_ways_and_resizes) {
    TempDir d;
    IoPaths paths{d.fifo("in"), d.fifo("out"), "", true};
    UniqueFd out_reader(::open(paths.stdout_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    auto io = ProcessIo::open(paths);
    BOOST_REQUIRE(io.ok());
    auto pty = shim::open_pty(0, 0);
    BOOST_REQUIRE(pty.ok());
    UniqueFd slave = std::move(pty->slave);
    BOOST_REQUIRE((*io)->attach_console(std::move(pty->master)).ok());
    BOOST_REQUIRE(write_all(slave.get(), "from-tty", 8, "slave").ok());
    BOOST_TEST(read_some(out_reader.get()) == "from-tty");
    UniqueFd writer(::open(paths.stdin_path.c_str(), O_WRONLY | O_CLOEXEC));
    BOOST_REQUIRE(write_all(writer.get(), "typed\n", 6, "stdin fifo").ok());
    BOOST_TEST(read_some(slave.get()).rfind("typed", 0) == 0);
    BOOST_REQUIRE((*io)->resize(100, 30).ok());
    auto ws = shim::window_size(slave.get());
    BOOST_REQUIRE(ws.has_value());
    BOOST_TEST(ws->cols == 100u);
    BOOST_TEST(ws->rows == 30u);
    slave.reset(); // the process ended: output copying finishes
    const auto t0 = std::chrono::steady_clock::now();
    (*io)->wait_output(3s);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

BOOST_AUTO_TEST_CASE(console_socket_receives_a_pty_master) {
    auto rx = ConsoleReceiver::listen("c1");
    BOOST_REQUIRE(rx.ok());
    auto pty = shim::open_pty(0, 0);
    BOOST_REQUIRE(pty.ok());
    std::thread sender([&] { (void)shim::send_console((*rx)->path(), pty->master.get()); });
    auto master = (*rx)->receive(5s);
    sender.join();
    BOOST_REQUIRE(master.ok());
    BOOST_TEST(::isatty(master->get()) == 1);
    const std::string path = (*rx)->path();
    rx->reset();
    BOOST_TEST(::access(path.c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(console_socket_times_out_without_a_sender) {
    auto rx = ConsoleReceiver::listen("c2");
    BOOST_REQUIRE(rx.ok());
    auto master = (*rx)->receive(100ms);
    BOOST_REQUIRE(!master.ok());
    BOOST_TEST(master.error().code() == ETIMEDOUT);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(forwarded_in_order_with_namespace) {
    test::EventSink sink;
    {
        EventPublisher pub(sink.path(), "ns1");
        ::containerd::events::TaskStart start;
        start.set_container_id("c1");
        start.set_pid(42);
        ::containerd::events::TaskExit exit;
        exit.set_container_id("c1");
        exit.set_exit_status(3);
        pub.publish(topic::kTaskStart, start);
        pub.publish(topic::kTaskExit, exit);
        BOOST_TEST(pub.flush(5s));
    }
    const std::vector<std::string> want = {"/tasks/start", "/tasks/exit"};
    BOOST_TEST(sink.topics() == want);
    auto envs = sink.envelopes();
    BOOST_REQUIRE(envs.size() == 2u);
    BOOST_TEST(envs[0].namespace_() == "ns1");
    BOOST_TEST(envs[0].event().type_url() == "containerd.events.TaskStart");
}

BOOST_AUTO_TEST_CASE(unreachable_containerd_drops_after_retries_without_hanging) {
    const auto t0 = std::chrono::steady_clock::now();
    {
        EventPublisher pub("/tmp/runvm-no-such-containerd.sock", "ns");
        ::containerd::events::TaskOOM oom;
        pub.publish(topic::kTaskOOM, oom);
    }
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 20s));
}

BOOST_AUTO_TEST_SUITE_END()
