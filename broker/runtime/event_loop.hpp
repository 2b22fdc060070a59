// EventLoop: one thread's epoll loop; handlers are keyed by token so a handler may remove
// itself (or others) while events are being dispatched.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/epoll.hpp"
#include "base/event_fd.hpp"
#include "base/result.hpp"

namespace runvm::broker {

class EventLoop {
public:
    using Handler = std::function<void(uint32_t events)>;
    using Token = uint64_t;

    static Result<std::unique_ptr<EventLoop>> create();

    Result<Token> add(int fd, uint32_t events, Handler handler);
    Result<void> modify(Token token, uint32_t events);
    // The fd stays open (its owner closes it); removing an unknown token does nothing.
    void remove(Token token);

    // Called about every tick_ms from the loop thread (timeouts, sweeps).
    void on_tick(std::function<void()> tick) { ticks_.push_back(std::move(tick)); }

    // Runs until stop() is called from any thread.
    Result<void> run();
    // One round: waits up to timeout_ms and dispatches what is ready.
    Result<void> run_once(int timeout_ms);
    // Thread-safe.
    void stop();

    static constexpr int tick_ms = 250;

private:
    EventLoop(Epoll epoll, EventFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}

    struct Entry {
        int fd;
        std::shared_ptr<Handler> handler;
    };
    Epoll epoll_;
    EventFd wake_;
    bool stopping_ = false;
    Token next_token_ = 1;
    std::unordered_map<Token, Entry> entries_;
    std::vector<std::function<void()>> ticks_;
    int64_t last_tick_ms_ = 0;
};

} // namespace runvm::broker
