// OwnedThread: the one owner of a thread; drop asks it to stop, wakes it and joins it with a
// deadline, so no owner can hang forever (or free state under a running thread) unnoticed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "base/result.hpp"

namespace runvm {

struct ThreadOptions {
    // Makes a body blocked in a syscall notice the stop: an eventfd write, a shutdown(), a
    // signal. Called by request_stop() and again every 50 ms while a join waits (a signal
    // sent before the thread blocked is lost, as with the vCPU kick).
    std::function<void()> wake;
    // How long the destructor waits after request_stop() before it gives up on the thread.
    std::chrono::milliseconds stop_timeout{10'000};
};

class OwnedThread {
public:
    // What a body may ask: whether its owner wants it gone.
    class StopToken {
    public:
        bool stop_requested() const;

    private:
        friend class OwnedThread;
        struct State;
        explicit StopToken(std::shared_ptr<State> s) : state_(std::move(s)) {}
        std::shared_ptr<State> state_;
    };

    OwnedThread() = default;
    // Starts `body` (callable with no argument or with a StopToken) on a new thread named
    // `name` in logs; throws std::system_error as std::thread does when none can be made.
    template <class Fn>
    OwnedThread(std::string name, Fn&& body, ThreadOptions options = {})
        : OwnedThread(std::move(name), adapt(std::forward<Fn>(body)), std::move(options), 0) {}
    // The same without exceptions: pthread_create's errno names the thread.
    template <class Fn>
    static Result<OwnedThread> start(std::string name, Fn&& body, ThreadOptions options = {}) {
        try {
            // `name` is copied, not moved: the error below still names the thread.
            return OwnedThread(name, std::forward<Fn>(body), std::move(options));
        } catch (const std::system_error& e) {
            return Err(Error::with_errno(e.code().value(), "pthread_create " + name));
        }
    }

    // request_stop(), then join within stop_timeout; a thread still running then aborts the
    // process (see owned_thread.cpp for why abort rather than detach).
    ~OwnedThread();
    OwnedThread(const OwnedThread&) = delete;
    OwnedThread& operator=(const OwnedThread&) = delete;
    OwnedThread(OwnedThread&& o) noexcept = default;
    OwnedThread& operator=(OwnedThread&& o) noexcept;

    // Sets the stop token and calls the wake function; does not wait.
    void request_stop();
    // Waits until the body returned (true) or `timeout` passed (false: still running, still
    // owned). Repeats the wake every 50 ms once a stop was requested.
    bool join_for(std::chrono::milliseconds timeout);
    // request_stop() and join_for(stop_timeout), aborting as the destructor does.
    void stop_and_join();

    bool joinable() const { return thread_.joinable(); }
    std::thread::native_handle_type native_handle() { return thread_.native_handle(); }
    const std::string& name() const;

private:
    using Body = std::function<void(const StopToken&)>;
    // The callable is kept behind a shared_ptr, so a move-only one (holding a UniqueFd)
    // fits in the copyable std::function.
    template <class Fn>
    static Body adapt(Fn&& fn) {
        auto f = std::make_shared<std::decay_t<Fn>>(std::forward<Fn>(fn));
        if constexpr (std::is_invocable_v<std::decay_t<Fn>&, const StopToken&>) {
            return [f](const StopToken& stop) { (*f)(stop); };
        } else {
            return [f](const StopToken&) { (*f)(); };
        }
    }
    OwnedThread(std::string name, Body body, ThreadOptions options, int);

    std::shared_ptr<StopToken::State> state_;
    std::thread thread_;
};

} // namespace runvm
