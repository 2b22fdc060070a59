// OwnedThread: stop request and wake, deadline join, the destructor's stop, move.
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <poll.h>

#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"

using namespace runvm;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(owned_thread_runs_and_joins) {
    std::atomic<int> ran{0};
    OwnedThread t("once", [&] { ran = 1; });
    BOOST_TEST(t.joinable());
    BOOST_TEST(t.name() == "once");
    BOOST_TEST(t.join_for(5s));
    BOOST_TEST(!t.joinable());
    BOOST_TEST(ran == 1);
}

BOOST_AUTO_TEST_CASE(owned_thread_stop_wakes_a_body_blocked_in_poll) {
    auto wake = EventFd::create();
    BOOST_REQUIRE(wake.ok());
    std::atomic<bool> saw_stop{false};
    {
        OwnedThread t("poller",
                      [&, fd = wake->get()](const OwnedThread::StopToken& stop) {
                          while (!stop.stop_requested()) {
                              pollfd pf{fd, POLLIN, 0};
                              (void)::poll(&pf, 1, -1);
                          }
                          saw_stop = true;
                      },
                      {.wake = [&] { (void)wake->signal(); }, .stop_timeout = 5s});
        // Not asked to stop: the body keeps blocking and the deadline passes.
        BOOST_TEST(!t.join_for(50ms));
        BOOST_TEST(t.joinable());
    } // the destructor asks, wakes and joins
    BOOST_TEST(saw_stop.load());
}

BOOST_AUTO_TEST_CASE(owned_thread_takes_a_move_only_body) {
    auto owned = std::make_unique<int>(41);
    std::atomic<int> seen{0};
    OwnedThread t("move-only", [&seen, p = std::move(owned)]() mutable { seen = ++*p; });
    BOOST_TEST(t.join_for(5s));
    BOOST_TEST(seen == 42);
}

BOOST_AUTO_TEST_CASE(owned_thread_moves_and_start_reports_a_result) {
    std::atomic<int> count{0};
    std::vector<OwnedThread> pool;
    for (int i = 0; i < 3; ++i) {
        auto t = OwnedThread::start("worker " + std::to_string(i), [&] { ++count; });
        BOOST_REQUIRE(t.ok());
        pool.push_back(std::move(*t));
    }
    for (auto& t : pool) {
        BOOST_TEST(t.join_for(5s));
    }
    BOOST_TEST(count == 3);
    OwnedThread a("a", [] {});
    OwnedThread b;
    b = std::move(a);
    BOOST_TEST(!a.joinable());
    BOOST_TEST(b.join_for(5s));
}
