// ChildProcess: fork_child's exit status, deadline waits, kill and reap on drop, release.
#include <chrono>
#include <csignal>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"

using namespace runvm;
using namespace std::chrono_literals;

namespace {
bool alive(pid_t pid) {
    return ::kill(pid, 0) == 0;
}
} // namespace

BOOST_AUTO_TEST_CASE(fork_child_exits_with_what_the_function_returns) {
    auto c = ChildProcess::fork_child("test child", [] { return 7; });
    BOOST_REQUIRE(c.ok());
    auto st = c->wait();
    BOOST_REQUIRE(st.ok());
    BOOST_TEST(WIFEXITED(*st));
    BOOST_TEST(WEXITSTATUS(*st) == 7);
    BOOST_TEST(!c->running());
    auto v = ChildProcess::fork_child("void child", [] {});
    BOOST_REQUIRE(v.ok());
    BOOST_TEST(WEXITSTATUS(v->wait().value()) == 0);
}

BOOST_AUTO_TEST_CASE(wait_until_returns_at_the_deadline_or_at_the_exit) {
    auto c = ChildProcess::fork_child("sleeper", [] {
        ::pause();
        return 0;
    });
    BOOST_REQUIRE(c.ok());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c->wait_until(t0 + 100ms);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(!r->has_value());
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 100ms));
    BOOST_TEST(c->running());
    BOOST_REQUIRE(c->signal(SIGTERM).ok());
    const auto t1 = std::chrono::steady_clock::now();
    auto e = c->wait_for(10'000);
    BOOST_REQUIRE(e.ok());
    BOOST_REQUIRE(e->has_value());
    BOOST_TEST(WIFSIGNALED(**e));
    BOOST_TEST(WTERMSIG(**e) == SIGTERM);
    // The pidfd wakes the wait at the exit, not at the deadline.
    BOOST_TEST((std::chrono::steady_clock::now() - t1 < 5s));
}

BOOST_AUTO_TEST_CASE(drop_kills_and_reaps_and_release_hands_the_pid_over) {
    pid_t pid = -1;
    {
        auto c = ChildProcess::fork_child("dropped", [] {
            ::pause();
            return 0;
        });
        BOOST_REQUIRE(c.ok());
        pid = c->pid();
        BOOST_TEST(alive(pid));
    }
    // Reaped, not a zombie: the pid is gone.
    BOOST_TEST(!alive(pid));
    auto c = ChildProcess::fork_child("released", [] { return 3; });
    BOOST_REQUIRE(c.ok());
    const pid_t raw = c->release();
    BOOST_TEST(!c->running());
    int status = 0;
    BOOST_REQUIRE(::waitpid(raw, &status, 0) == raw);
    BOOST_TEST(WEXITSTATUS(status) == 3);
}
