// Stream connections (vsock or Unix) and the pty relay thread.
#include "guest_agent/service/stdio_transport.hpp"

#include <cerrno>

#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/unix_socket.hpp"

namespace runvm::agent {

Result<UniqueFd> StdioTransport::connect(uint32_t port, std::chrono::milliseconds timeout) const {
    if (!vsock) {
        return rpc::connect_unix_socket(unix_prefix + "_" + std::to_string(port), timeout);
    }
    UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_VSOCK"));
    }
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd.get(), AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW, &tv, sizeof tv);
    sockaddr_vm addr{};
    addr.svm_family = AF_VSOCK;
    addr.svm_cid = host_cid;
    addr.svm_port = port;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        return Err(Error::from_errno("connect vsock " + std::to_string(host_cid) + ":" +
                                     std::to_string(port)));
    }
    return fd;
}

Result<ProcessStreams> open_process_streams(const StdioTransport& t,
                                            const runvm::agent::v1::StdioPorts& ports,
                                            std::chrono::milliseconds timeout) {
    ProcessStreams s;
    if (ports.terminal()) {
        if (ports.stdout_port() != 0) {
            RUNVM_ASSIGN_OR_RETURN(s.terminal_stream, t.connect(ports.stdout_port(), timeout));
        }
        return s;
    }
    if (ports.stdin_port() != 0) {
        RUNVM_ASSIGN_OR_RETURN(s.in, t.connect(ports.stdin_port(), timeout));
        ::shutdown(s.in.get(), SHUT_WR); // the process only reads its stdin
    }
    if (ports.stdout_port() != 0) {
        RUNVM_ASSIGN_OR_RETURN(s.out, t.connect(ports.stdout_port(), timeout));
        ::shutdown(s.out.get(), SHUT_RD);
    }
    if (ports.stderr_port() != 0) {
        RUNVM_ASSIGN_OR_RETURN(s.err, t.connect(ports.stderr_port(), timeout));
        ::shutdown(s.err.get(), SHUT_RD);
    }
    return s;
}

PtyRelay::PtyRelay(UniqueFd master, UniqueFd stream)
    : master_(std::move(master)), stream_(std::move(stream)),
      stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { run(); });
}

PtyRelay::~PtyRelay() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void PtyRelay::run() {
    char buf[16384];
    bool stream_open = stream_.valid();
    for (;;) {
        pollfd fds[3] = {{master_.get(), POLLIN, 0},
                         {stream_open ? stream_.get() : -1, POLLIN, 0},
                         {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t n = ::read(master_.get(), buf, sizeof buf);
            if (n <= 0) {
                // EIO: every slave fd closed, the process is gone; the host sees EOF.
                if (stream_.valid()) {
                    ::shutdown(stream_.get(), SHUT_WR);
                }
                return;
            }
            if (stream_open &&
                ::send(stream_.get(), buf, static_cast<size_t>(n), MSG_NOSIGNAL) < 0) {
                stream_open = false;
            }
        }
        if (stream_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t n = ::read(stream_.get(), buf, sizeof buf);
            if (n <= 0) {
                stream_open = false; // host closed its side: keep draining the output
                continue;
            }
            [[maybe_unused]] ssize_t w = ::write(master_.get(), buf, static_cast<size_t>(n));
        }
        if ((fds[2].revents & POLLIN) != 0) {
            return;
        }
    }
}

} // namespace runvm::agent
