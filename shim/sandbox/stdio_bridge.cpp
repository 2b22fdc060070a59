// One poll loop per process: accepts the guest's stdio connections and copies bytes.
#include "shim/sandbox/stdio_bridge.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "shim/sandbox/hybrid_vsock.hpp"

namespace runvm::shim {

Result<std::unique_ptr<StdioBridge>>
StdioBridge::open(const std::string& vsock_uds, uint32_t first_port, StdioFds fds, bool terminal) {
    std::unique_ptr<StdioBridge> b(new StdioBridge());
    b->terminal_ = terminal && fds.in.valid() && fds.out.valid();
    UniqueFd* hosts[3] = {&fds.in, &fds.out, &fds.err};
    uint32_t* ports[3] = {&b->ports_.stdin_port, &b->ports_.stdout_port, &b->ports_.stderr_port};
    for (int i = 0; i < 3; ++i) {
        if (!hosts[i]->valid()) {
            b->ch_[i].done = true;
            continue;
        }
        if (i == in && b->terminal_) {
            b->ch_[i].host = std::move(*hosts[i]); // its guest side is the stdout stream's
            continue;
        }
        const uint32_t port = first_port + static_cast<uint32_t>(i);
        b->ch_[i].path = vsock_host_port_path(vsock_uds, port);
        RUNVM_ASSIGN_OR_RETURN(b->ch_[i].listener, listen_vsock_port(vsock_uds, port, 1));
        b->ch_[i].host = std::move(*hosts[i]);
        *ports[i] = port;
        if (i != in) {
            ++b->outputs_open_;
        }
    }
    b->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!b->stop_fd_) {
        return Err(Error::from_errno("eventfd for stdio bridge"));
    }
    b->thread_ = OwnedThread("stdio bridge", [p = b.get()] { p->run(); });
    return b;
}

StdioBridge::~StdioBridge() {
    stop();
    thread_.stop_and_join();
    for (auto& c : ch_) {
        if (!c.path.empty()) {
            ::unlink(c.path.c_str());
        }
    }
}

void StdioBridge::stop() {
    const uint64_t one = 1;
    if (stop_fd_) {
        [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    }
}

bool StdioBridge::wait_output_done(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return outputs_open_ == 0; });
}

void StdioBridge::finish(Channel& c) {
    if (c.done) {
        return;
    }
    c.done = true;
    c.listener.reset();
    if (&c == &ch_[in]) {
        // The guest sees EOF on the process's stdin.
        if (c.guest) {
            ::shutdown(c.guest.get(), SHUT_WR);
        }
        c.host.reset();
        return;
    }
    c.guest.reset();
    c.host.reset();
    if (terminal_ && &c == &ch_[out]) {
        finish(ch_[in]); // the one stream is gone: nothing carries input any more
    }
    std::lock_guard lock(mu_);
    if (--outputs_open_ == 0) {
        cv_.notify_all();
    }
}

// Copies one buffer; false when the source reached EOF or either side failed.
bool StdioBridge::pump(Channel& c, bool to_guest) {
    char buf[16384];
    const int from = to_guest ? c.host.get() : c.guest.get();
    const int to = to_guest ? c.guest.get() : c.host.get();
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    if (n <= 0) {
        return false;
    }
    auto w = write_all(to, buf, static_cast<size_t>(n), to_guest ? "guest stdin" : "host stdio");
    if (!w) {
        spdlog::debug("stdio: {}", w.error().str());
        return false;
    }
    return true;
}

void StdioBridge::run() {
    for (;;) {
        pollfd fds[4];
        int owner[4];
        nfds_t n = 0;
        fds[n] = {stop_fd_.get(), POLLIN, 0};
        owner[n++] = -1;
        for (int i = 0; i < 3; ++i) {
            Channel& c = ch_[i];
            if (c.done || (!c.guest && !c.listener)) {
                continue; // a terminal's stdin before the stdout stream connected
            }
            if (!c.guest) {
                fds[n] = {c.listener.get(), POLLIN, 0};
            } else {
                fds[n] = {i == in ? c.host.get() : c.guest.get(), POLLIN, 0};
            }
            owner[n++] = i;
        }
        if (n == 1) {
            return; // every stream finished
        }
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            spdlog::warn("stdio bridge: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[0].revents) {
            return;
        }
        for (nfds_t k = 1; k < n; ++k) {
            if (!fds[k].revents) {
                continue;
            }
            Channel& c = ch_[owner[k]];
            if (!c.guest) {
                auto conn = accept_unix(c.listener.get(), false, c.path.c_str());
                if (conn && conn->valid()) {
                    c.guest = std::move(*conn);
                    c.listener.reset();
                    ::unlink(c.path.c_str());
                    if (terminal_ && owner[k] == out && !ch_[in].done) {
                        ch_[in].guest = UniqueFd(::dup(c.guest.get()));
                    }
                }
                continue;
            }
            if (!pump(c, owner[k] == in)) {
                finish(c);
            }
        }
    }
}

} // namespace runvm::shim
