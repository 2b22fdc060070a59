// ProcessHandle: a child signalled through its handle, a recorded start time that does not
// match refused, an exited pid (reaped or a zombie) reported gone.
#include <csignal>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/process_handle.hpp"

using namespace runvm;
using namespace std::chrono_literals;

namespace {

ChildProcess sleeper() {
    return ChildProcess::fork_child("sleeper",
                                    [] {
                                        ::pause();
                                        return 0;
                                    })
        .value();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_child_is_signalled_through_its_handle) {
    ChildProcess c = sleeper();
    auto started = ProcessHandle::start_time(c.pid());
    BOOST_REQUIRE(started.ok());
    BOOST_TEST(*started > 0u);
    auto h = ProcessHandle::open(c.pid(), *started);
    BOOST_REQUIRE_MESSAGE(h.ok(), (h.ok() ? std::string() : h.error().str()));
    BOOST_TEST(!h->exited());
    BOOST_TEST(!h->wait_exit_until(std::chrono::steady_clock::now() + 50ms));
    BOOST_REQUIRE(h->signal(SIGTERM).ok());
    BOOST_TEST(h->wait_exit_until(std::chrono::steady_clock::now() + 10s));
    const int status = c.wait().value();
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGTERM);
    auto after = h->signal(SIGTERM);
    BOOST_TEST(after.error().code() == ESRCH);
    BOOST_TEST(after.error().str().find("pid " + std::to_string(h->pid()) + ": exited") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_start_time_that_does_not_match_is_refused) {
    ChildProcess c = sleeper();
    const uint64_t started = ProcessHandle::start_time(c.pid()).value();
    auto h = ProcessHandle::open(c.pid(), started + 1);
    BOOST_REQUIRE(!h.ok());
    BOOST_TEST(h.error().code() == ESRCH);
    BOOST_TEST(h.error().str().find("pid " + std::to_string(c.pid()) + ": start time") !=
               std::string::npos);
    BOOST_TEST(h.error().str().find("reused") != std::string::npos);
    auto unrecorded = ProcessHandle::open(c.pid(), 0);
    BOOST_TEST(unrecorded.error().code() == ESRCH);
    // Not signalled: it still sleeps.
    BOOST_TEST(!c.wait_for(50).value().has_value());
}

BOOST_AUTO_TEST_CASE(an_exited_pid_is_gone) {
    ChildProcess c = ChildProcess::fork_child("quick", [] { return 0; }).value();
    const pid_t pid = c.pid();
    const uint64_t started = ProcessHandle::start_time(pid).value();
    // A zombie: exited, not reaped yet.
    siginfo_t info{};
    BOOST_REQUIRE(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0);
    auto zombie = ProcessHandle::open(pid, started);
    BOOST_TEST(zombie.error().code() == ESRCH);
    BOOST_TEST(zombie.error().str().find("exited") != std::string::npos);
    BOOST_REQUIRE(c.wait().ok());
    auto reaped = ProcessHandle::open(pid, started);
    BOOST_TEST(reaped.error().code() == ESRCH);
    BOOST_TEST(ProcessHandle::start_time(pid).error().code() == ESRCH);
    BOOST_TEST(ProcessHandle::open(-1, 1).error().code() == ESRCH);
}

BOOST_AUTO_TEST_CASE(a_child_handed_to_another_reaper_keeps_its_handle) {
    ChildProcess c = sleeper();
    auto h = ProcessHandle::open_child(c.pid());
    BOOST_REQUIRE(h.ok());
    const pid_t pid = c.release();
    BOOST_REQUIRE(h->signal(SIGKILL).ok());
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(WTERMSIG(status) == SIGKILL);
    BOOST_TEST(h->exited());
    BOOST_TEST(h->signal(0).error().code() == ESRCH);
}
