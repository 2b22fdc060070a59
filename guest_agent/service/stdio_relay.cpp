// The stdio relay's poll loop: non-blocking copies, one buffer per direction, EOF passed on.
#include "guest_agent/service/stdio_relay.hpp"

#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace runvm::agent {

namespace {
constexpr size_t kBufSize = 16384;

Result<void> set_nonblocking(const UniqueFd& fd, const char* what) {
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
        return Err(Error::from_errno(std::string("fcntl O_NONBLOCK ") + what));
    }
    return Ok();
}
} // namespace

Result<std::unique_ptr<StdioRelay>> StdioRelay::start(Ends in_ends, Ends out_ends, Ends err_ends) {
    std::unique_ptr<StdioRelay> r(new StdioRelay());
    RUNVM_ASSIGN_OR_RETURN(r->wake_, EventFd::create());
    Ends* ends[3] = {&in_ends, &out_ends, &err_ends};
    static const char* const names[3] = {"stdin", "stdout", "stderr"};
    for (int i = in; i <= err; ++i) {
        Ends& e = *ends[i];
        if (!e.stream || !e.pipe) {
            continue; // not connected: the process has /dev/null there
        }
        RUNVM_TRY(set_nonblocking(e.stream, names[i]));
        RUNVM_TRY(set_nonblocking(e.pipe, names[i]));
        Pump& p = r->pumps_[static_cast<size_t>(i)];
        if (i == in) {
            p.from = std::move(e.stream);
            p.to = std::move(e.pipe);
        } else {
            p.from = std::move(e.pipe);
            p.to = std::move(e.stream);
            p.to_socket = true;
        }
        p.buf = std::make_unique_for_overwrite<char[]>(kBufSize);
    }
    r->thread_ = OwnedThread("stdio relay", [p = r.get()] { p->run(); });
    return r;
}

StdioRelay::~StdioRelay() {
    stop_ = true;
    (void)wake_.signal();
    thread_.stop_and_join();
}

void StdioRelay::close_stdin() {
    close_stdin_ = true;
    (void)wake_.signal();
}

bool StdioRelay::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const uint64_t gen = ++flush_asked_;
    (void)wake_.signal();
    return cv_.wait_for(lock, timeout, [&] { return finished_ || flush_done_ >= gen; });
}

// Closing both ends passes EOF on: the stdin pipe's reader or the host's stream reader sees
// it; a closed output pipe read end gives the process EPIPE, as a host pipe's would.
void StdioRelay::finish(Pump& p) {
    p.from.reset();
    p.to.reset();
    p.off = p.len = 0;
}

void StdioRelay::read_from(Pump& p) {
    const ssize_t n = ::read(p.from.get(), p.buf.get(), kBufSize);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        finish(p);
        return;
    }
    p.off = 0;
    p.len = static_cast<size_t>(n);
    write_to(p); // most writes go through at once, without another poll
}

void StdioRelay::write_to(Pump& p) {
    const char* data = p.buf.get() + p.off;
    const ssize_t n = p.to_socket ? ::send(p.to.get(), data, p.len, MSG_NOSIGNAL)
                                  : ::write(p.to.get(), data, p.len); // SIGPIPE is ignored
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        finish(p); // the reader is gone
        return;
    }
    p.off += static_cast<size_t>(n);
    p.len -= static_cast<size_t>(n);
    p.moved += static_cast<uint64_t>(n);
}

// CloseStdin and flush requests from other threads, and flush completion.
void StdioRelay::take_requests() {
    if (close_stdin_.exchange(false)) {
        finish(pumps_[in]);
    }
    std::lock_guard lock(mu_);
    if (flush_asked_ > flush_seen_) {
        flush_seen_ = flush_asked_;
        for (Pump* p : {&pumps_[out], &pumps_[err]}) {
            int queued = 0; // what the exited process left in the pipe
            if (!p->done() && ::ioctl(p->from.get(), FIONREAD, &queued) < 0) {
                queued = 0;
            }
            p->target = p->moved + p->len + static_cast<uint64_t>(queued);
        }
    }
    auto reached = [](const Pump& p) { return p.done() || p.moved >= p.target; };
    if (flush_done_ < flush_seen_ && reached(pumps_[out]) && reached(pumps_[err])) {
        flush_done_ = flush_seen_;
        cv_.notify_all();
    }
}

void StdioRelay::run() {
    while (!stop_) {
        take_requests();
        // One entry per pump (its source, or its destination while a buffer waits), the
        // stdin pipe's write end watched for errors (the process side closed it), the wake fd.
        pollfd fds[5];
        Pump* owner[5];
        nfds_t n = 0;
        fds[n] = {wake_.get(), POLLIN, 0};
        owner[n++] = nullptr;
        for (Pump& p : pumps_) {
            if (p.done()) {
                continue;
            }
            fds[n] = p.len > 0 ? pollfd{p.to.get(), POLLOUT, 0} : pollfd{p.from.get(), POLLIN, 0};
            owner[n++] = &p;
        }
        if (n == 1) {
            std::lock_guard lock(mu_);
            finished_ = true;
            cv_.notify_all();
            return;
        }
        Pump& stdin_pump = pumps_[in];
        const bool watch_stdin_pipe = !stdin_pump.done() && stdin_pump.len == 0;
        if (watch_stdin_pipe) {
            fds[n] = {stdin_pump.to.get(), 0, 0}; // POLLERR: no reader left
            owner[n++] = nullptr;
        }
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            for (Pump& p : pumps_) {
                finish(p);
            }
            continue;
        }
        if (fds[0].revents != 0) {
            (void)wake_.drain();
        }
        if (watch_stdin_pipe && fds[n - 1].revents != 0) {
            finish(stdin_pump);
        }
        for (nfds_t i = 1; i < n; ++i) {
            Pump* p = owner[i];
            if (p == nullptr || fds[i].revents == 0 || p->done()) {
                continue;
            }
            if (p->len > 0) {
                write_to(*p);
            } else {
                read_from(*p);
            }
        }
    }
}

} // namespace runvm::agent
