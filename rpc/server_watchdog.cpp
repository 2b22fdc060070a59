// The server's watchdog: when a handler runs longer than handoff_after, a pool thread takes
// over reading its connection, so the calls queued behind it start.
#include <spdlog/spdlog.h>

#include "rpc/server_impl.hpp"

namespace runvm::rpc {

void Server::Impl::wake_watchdog() {
    // Only an idle watchdog needs a wake-up; a watching one polls anyway. The handler start
    // was published under role_mu before this load, and the watchdog sets idle before its
    // last scan, so one of the two sees the other.
    if (!watchdog_idle.load()) {
        return;
    }
    {
        std::lock_guard lock(watchdog_mu);
        watchdog_wake = true;
    }
    watchdog_cv.notify_one();
}

bool Server::Impl::hand_off_slow_calls() {
    std::vector<std::shared_ptr<Connection>> snapshot;
    {
        std::lock_guard lock(mu);
        snapshot = connections;
    }
    const auto now = std::chrono::steady_clock::now();
    bool busy = false;
    for (const auto& conn : snapshot) {
        uint64_t epoch;
        {
            std::lock_guard lock(conn->role_mu);
            if (!conn->in_call || conn->finished.load()) {
                continue;
            }
            if (now - conn->call_started < options.handoff_after) {
                busy = true;
                continue;
            }
            // The running call keeps its thread; reading moves on.
            epoch = ++conn->epoch;
            conn->in_call = false;
        }
        spdlog::debug("ttrpc: {}: a call runs longer than {} us, another thread reads on",
                      conn->what, options.handoff_after.count());
        if (!pool->submit([this, conn, epoch] { read_loop(conn, epoch); })) {
            spdlog::warn("ttrpc: closing {}: no thread free to read it", conn->what);
            conn->close();
            conn->finished.store(true);
        }
    }
    return busy;
}

void Server::Impl::watchdog_loop() {
    const auto period = std::max<std::chrono::microseconds>(options.handoff_after / 2,
                                                            std::chrono::microseconds(100));
    std::unique_lock lock(watchdog_mu);
    while (!watchdog_stop) {
        lock.unlock();
        bool busy = hand_off_slow_calls();
        lock.lock();
        if (busy) {
            watchdog_cv.wait_for(lock, period, [this] { return watchdog_stop; });
            continue;
        }
        // Nothing runs: sleep until a call starts. Rescan after announcing idleness so a
        // call that started in between is not missed.
        watchdog_idle.store(true);
        lock.unlock();
        busy = hand_off_slow_calls();
        lock.lock();
        if (!busy) {
            watchdog_cv.wait(lock, [this] { return watchdog_stop || watchdog_wake; });
        }
        watchdog_wake = false;
        watchdog_idle.store(false);
    }
}

} // namespace runvm::rpc
