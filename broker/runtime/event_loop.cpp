// EventLoop: epoll dispatch, periodic ticks and a cross-thread stop.
#include "broker/runtime/event_loop.hpp"

#include <atomic>
#include <chrono>

namespace runvm::broker {

namespace {

constexpr EventLoop::Token WAKE_TOKEN = 0;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
    RUNVM_ASSIGN_OR_RETURN(Epoll epoll, Epoll::create());
    RUNVM_ASSIGN_OR_RETURN(EventFd wake, EventFd::create());
    RUNVM_TRY(epoll.add(wake.get(), EPOLLIN, WAKE_TOKEN));
    return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll), std::move(wake)));
}

Result<EventLoop::Token> EventLoop::add(int fd, uint32_t events, Handler handler) {
    const Token token = next_token_++;
    RUNVM_TRY(epoll_.add(fd, events, token));
    entries_.emplace(token, Entry{fd, std::make_shared<Handler>(std::move(handler))});
    return token;
}

Result<void> EventLoop::modify(Token token, uint32_t events) {
    auto it = entries_.find(token);
    if (it == entries_.end()) {
        return Err(Error::with_errno(ENOENT, "event loop: unknown token " + std::to_string(token)));
    }
    return epoll_.modify(it->second.fd, events, token);
}

void EventLoop::remove(Token token) {
    auto it = entries_.find(token);
    if (it == entries_.end()) {
        return;
    }
    epoll_.remove(it->second.fd);
    entries_.erase(it);
}

Result<void> EventLoop::run() {
    while (!stopping_) {
        RUNVM_TRY(run_once(tick_ms));
    }
    return Ok();
}

Result<void> EventLoop::run_once(int timeout_ms) {
    RUNVM_ASSIGN_OR_RETURN(auto events, epoll_.wait(64, timeout_ms));
    for (const auto& ev : events) {
        // A copy: epoll_event is packed on x86_64, and find() would bind a reference to the
        // misaligned field (UBSan, found by broker_vhost_user_fuzz).
        const Token token = ev.data.u64;
        if (token == WAKE_TOKEN) {
            wake_.drain();
            stopping_ = true;
            continue;
        }
        auto it = entries_.find(token);
        if (it == entries_.end()) {
            continue; // removed by an earlier handler in this batch
        }
        // Hold the handler: it may remove its own entry while running.
        const std::shared_ptr<Handler> handler = it->second.handler;
        (*handler)(ev.events);
    }
    const int64_t now = now_ms();
    if (now - last_tick_ms_ >= tick_ms) {
        last_tick_ms_ = now;
        for (auto& tick : ticks_) {
            tick();
        }
    }
    return Ok();
}

void EventLoop::stop() {
    (void)wake_.signal();
}

} // namespace runvm::broker
