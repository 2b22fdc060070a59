// The shim binary's contract with containerd, no VM: `start` binds the group's socket,
// starts the daemon and prints the address; a second container of the group reuses it;
// Shutdown ends the daemon and removes the socket; `delete` writes a DeleteResponse.
// Needs root (/run/containerd/s); exits 77 otherwise.
#define BOOST_TEST_MODULE containerd_shim_binary
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.hpp"
#include "containerd/api/runtime/task/v2/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "rpc/client.hpp"
#include "shim/containerd/event_sink_test_support.hpp"
#include "shim/containerd/shim_address.hpp"

using namespace runvm;
using namespace runvm::containerd;
using namespace std::chrono_literals;

namespace {

struct RootOnly {
    RootOnly() {
        if (::geteuid() != 0) {
            std::puts("needs root (/run/containerd/s)");
            std::exit(77);
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(RootOnly);

struct Ran {
    int status = -1;
    std::string out;
};

// Runs the shim with `args` in `cwd`, stdout captured; bounded.
Ran run_shim(const std::vector<std::string>& args, const std::string& cwd,
             const std::string& ttrpc_address) {
    int p[2];
    BOOST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(p[1], 1);
        if (::chdir(cwd.c_str()) != 0) {
            ::_exit(126);
        }
        ::setenv("TTRPC_ADDRESS", ttrpc_address.c_str(), 1);
        std::vector<char*> argv;
        static std::string bin = RUNVM_SHIM_BINARY;
        argv.push_back(bin.data());
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(p[1]);
    Ran r;
    char buf[4096];
    for (;;) {
        pollfd pf{p[0], POLLIN, 0};
        if (::poll(&pf, 1, 20'000) <= 0) {
            break;
        }
        const ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        r.out.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

struct Bundle {
    std::string dir;
    explicit Bundle(const std::string& group) {
        std::string t = "/tmp/runvm-shim-bin-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(t.data()));
        dir = t;
        std::ofstream(dir + "/config.json")
            << R"({"ociVersion":"1.0.2","annotations":{"io.containerd.runc.v2.group":")" << group
            << R"("}})";
    }
    ~Bundle() { std::filesystem::remove_all(dir); }
};

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        // The daemon was start's child; start exited, so it is reparented (not ours).
        if (::kill(pid, 0) != 0) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_CASE(start_reuse_shutdown_and_delete) {
    test::EventSink sink;
    Bundle b1("grp-" + std::to_string(::getpid()));
    Bundle b2("grp-" + std::to_string(::getpid()));
    const std::string containerd_address = b1.dir + "/containerd.sock";
    const std::vector<std::string> common = {"-namespace",      "shimtest",
                                             "-address",        containerd_address,
                                             "-publish-binary", "/usr/bin/containerd"};
    auto args = [&](const std::string& id, const std::string& action) {
        auto a = common;
        a.insert(a.end(), {"-id", id, action});
        return a;
    };
    auto first = run_shim(args("c1", "start"), b1.dir, sink.path());
    BOOST_REQUIRE_EQUAL(first.status, 0);
    const std::string want =
        socket_address(containerd_address, "shimtest", "grp-" + std::to_string(::getpid()));
    BOOST_TEST(first.out == want);
    BOOST_TEST(*read_file(b1.dir + "/address") == want);
    const std::string path = *socket_path(want);
    BOOST_TEST(::access(path.c_str(), F_OK) == 0);

    // A second container of the same group gets the running shim.
    auto second = run_shim(args("c2", "start"), b2.dir, sink.path());
    BOOST_REQUIRE_EQUAL(second.status, 0);
    BOOST_TEST(second.out == want);

    auto client = rpc::Client::connect_unix(path, 5s);
    BOOST_REQUIRE(client.ok());
    ::containerd::task::v2::ConnectRequest cq;
    cq.set_id("c1");
    ::containerd::task::v2::ConnectResponse cr;
    BOOST_REQUIRE(client->call("containerd.task.v2.Task", "Connect", cq, &cr).ok());
    const auto daemon = static_cast<pid_t>(cr.shim_pid());
    BOOST_TEST(daemon > 0);
    BOOST_TEST(daemon != ::getpid());
    ::containerd::task::v2::StateRequest sq;
    sq.set_id("c1");
    ::containerd::task::v2::StateResponse sr;
    BOOST_TEST(client->call("containerd.task.v2.Task", "State", sq, &sr).code == rpc::kNotFound);
    ::containerd::task::v2::ShutdownRequest shq;
    shq.set_id("c1");
    google::protobuf::Empty e;
    (void)client->call("containerd.task.v2.Task", "Shutdown", shq, &e);
    BOOST_TEST(gone_within(daemon, 10s));
    BOOST_TEST(::access(path.c_str(), F_OK) != 0);

    // delete: containerd's cleanup after a dead shim.
    std::ofstream(b1.dir + "/init.pid") << "4242";
    auto del = run_shim({"-namespace", "shimtest", "-address", containerd_address, "-id", "c1",
                         "-bundle", b1.dir, "delete"},
                        b1.dir, "");
    BOOST_REQUIRE_EQUAL(del.status, 0);
    ::containerd::task::v2::DeleteResponse dr;
    BOOST_REQUIRE(dr.ParseFromString(del.out));
    BOOST_TEST(dr.pid() == 4242u);
    BOOST_TEST(dr.exit_status() == 137u);
    BOOST_TEST(dr.exited_at().seconds() > 0);
}

BOOST_AUTO_TEST_CASE(bad_command_lines_fail_with_a_message) {
    Bundle b("x");
    auto no_ns = run_shim({"-id", "c1", "start"}, b.dir, "");
    BOOST_TEST(no_ns.status == 1);
    auto version = run_shim({"-v"}, b.dir, "");
    BOOST_TEST(version.status == 0);
    BOOST_TEST(version.out.find("io.containerd.runvm.v2") != std::string::npos);
}
