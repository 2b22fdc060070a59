// OwnedThread: stop request, wake, deadline join.
#include "base/owned_thread.hpp"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace runvm {

struct OwnedThread::StopToken::State {
    std::string name;
    ThreadOptions options;
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
};

bool OwnedThread::StopToken::stop_requested() const {
    return state_->stop.load();
}

OwnedThread::OwnedThread(std::string name, Body body, ThreadOptions options, int)
    : state_(std::make_shared<StopToken::State>()) {
    state_->name = std::move(name);
    state_->options = std::move(options);
    // The thread holds its own reference: the state it signals outlives a moved-from owner.
    thread_ = std::thread([state = state_, body = std::move(body)] {
        body(StopToken(state));
        std::lock_guard lock(state->mu);
        state->done = true;
        state->cv.notify_all();
    });
}

OwnedThread::~OwnedThread() {
    stop_and_join();
}

OwnedThread& OwnedThread::operator=(OwnedThread&& o) noexcept {
    if (this != &o) {
        stop_and_join();
        state_ = std::move(o.state_);
        thread_ = std::move(o.thread_);
    }
    return *this;
}

const std::string& OwnedThread::name() const {
    static const std::string none;
    return state_ ? state_->name : none;
}

void OwnedThread::request_stop() {
    if (!state_ || !thread_.joinable()) {
        return;
    }
    state_->stop.store(true);
    if (state_->options.wake) {
        state_->options.wake();
    }
}

bool OwnedThread::join_for(std::chrono::milliseconds timeout) {
    if (!thread_.joinable()) {
        return true;
    }
    if (thread_.get_id() == std::this_thread::get_id()) {
        // The body is dropping its own owner: it cannot wait for itself, and it is on its
        // way out, so it is let go.
        thread_.detach();
        return true;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    {
        std::unique_lock lock(state_->mu);
        for (;;) {
            const auto slice = std::min(deadline, std::chrono::steady_clock::now() +
                                                      std::chrono::milliseconds(50));
            if (state_->cv.wait_until(lock, slice, [&] { return state_->done; })) {
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            if (state_->stop.load() && state_->options.wake) {
                lock.unlock();
                state_->options.wake();
                lock.lock();
            }
        }
    }
    // The body returned; only the wrapper's return is left, so this join is immediate.
    thread_.join();
    return true;
}

void OwnedThread::stop_and_join() {
    if (!thread_.joinable()) {
        return;
    }
    request_stop();
    if (!join_for(state_->options.stop_timeout)) {
        // Abort, not detach: the body runs on state its owner is about to free, so a detached
        // thread would turn a hang into a use-after-free somewhere later. Aborting names the
        // thread here and leaves a core that shows where it was stuck.
        spdlog::critical("thread {}: did not stop within {} ms of the stop request; aborting",
                         state_->name, state_->options.stop_timeout.count());
        spdlog::default_logger()->flush();
        std::abort();
    }
}

} // namespace runvm
