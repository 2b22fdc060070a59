// The forwarded signal set and its signalfd.
#include "shim/container/signal_forwarder.hpp"

#include <utility>

#include <sys/signalfd.h>
#include <unistd.h>

namespace runvm::shim {

bool SignalForwarder::forwarded(int signal) {
    switch (signal) {
    case SIGKILL:
    case SIGSTOP:
    case SIGCHLD:  // the client's own children
    case SIGWINCH: // a terminal's size: the monitor forwards it as a resize
    case SIGURG:   // runc leaves it to Go's runtime; nothing sends it to a process on purpose
    case SIGPIPE:  // the client's own writes; ignored in main()
        return false;
    default:
        return signal > 0 && signal < SIGRTMIN;
    }
}

Result<SignalForwarder> SignalForwarder::open() {
    sigset_t set;
    sigemptyset(&set);
    for (int s = 1; s < SIGRTMIN; ++s) {
        if (forwarded(s)) {
            sigaddset(&set, s);
        }
    }
    sigset_t old;
    if (::sigprocmask(SIG_BLOCK, &set, &old) != 0) {
        return Err(Error::from_errno("sigprocmask block forwarded signals"));
    }
    UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) {
        Error e = Error::from_errno("signalfd for forwarded signals");
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        return Err(std::move(e));
    }
    return SignalForwarder(std::move(fd), old);
}

SignalForwarder::SignalForwarder(SignalForwarder&& o) noexcept
    : fd_(std::move(o.fd_)), old_(o.old_), restore_(std::exchange(o.restore_, false)) {}

SignalForwarder::~SignalForwarder() {
    if (restore_) {
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
}

std::optional<int> SignalForwarder::take() {
    signalfd_siginfo info{};
    if (::read(fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
        return std::nullopt;
    }
    return static_cast<int>(info.ssi_signo);
}

} // namespace runvm::shim
