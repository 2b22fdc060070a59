// SignalForwarder: the signals a runc-style client passes on to the process it stands for
// (runc's signals.go: every catchable one but SIGCHLD, SIGWINCH and SIGURG), taken through a
// signalfd while it lives.
#pragma once

#include <csignal>
#include <optional>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

class SignalForwarder {
public:
    // Blocks the forwarded signals in the calling thread (call it before any thread starts)
    // and opens the signalfd; the old mask comes back on drop.
    static Result<SignalForwarder> open();
    ~SignalForwarder();
    SignalForwarder(SignalForwarder&& o) noexcept;
    SignalForwarder& operator=(SignalForwarder&&) = delete;
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;

    int fd() const { return fd_.get(); }
    // The next pending signal, if any (the fd is non-blocking).
    std::optional<int> take();

    // Whether the client passes `signal` on (false for SIGCHLD, SIGWINCH, SIGURG, SIGPIPE and
    // the uncatchable ones).
    static bool forwarded(int signal);

private:
    SignalForwarder(UniqueFd fd, sigset_t old) : fd_(std::move(fd)), old_(old) {}
    UniqueFd fd_;
    sigset_t old_{};
    bool restore_ = true;
};

} // namespace runvm::shim
