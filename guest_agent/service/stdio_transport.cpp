// Stream connections (vsock or Unix) and the pty relay thread.
#include "guest_agent/service/stdio_transport.hpp"

#include <cerrno>

#include <fcntl.h>
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
    StdioRelay::Ends ends[3];
    UniqueFd* process_ends[3] = {&s.in, &s.out, &s.err};
    const uint32_t port[3] = {ports.stdin_port(), ports.stdout_port(), ports.stderr_port()};
    for (int i = 0; i < 3; ++i) {
        if (port[i] == 0) {
            continue; // the process gets /dev/null
        }
        StdioRelay::Ends& e = ends[i];
        RUNVM_ASSIGN_OR_RETURN(e.stream, t.connect(port[i], timeout));
        ::shutdown(e.stream.get(), i == 0 ? SHUT_WR : SHUT_RD); // one direction each
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) { // the launcher dup2s the process's end onto 0-2
            return Err(Error::from_errno("pipe2 for stdio " + std::to_string(i)));
        }
        UniqueFd read_end(p[0]), write_end(p[1]);
        if (i == 0) {
            *process_ends[i] = std::move(read_end);
            e.pipe = std::move(write_end);
        } else {
            *process_ends[i] = std::move(write_end);
            e.pipe = std::move(read_end);
        }
    }
    if (s.in || s.out || s.err) {
        RUNVM_ASSIGN_OR_RETURN(
            s.relay, StdioRelay::start(std::move(ends[0]), std::move(ends[1]), std::move(ends[2])));
    }
    return s;
}

PtyRelay::PtyRelay(UniqueFd master, UniqueFd stream)
    : master_(std::move(master)), stream_(std::move(stream)),
      stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = OwnedThread("pty relay", [this] { run(); });
}

PtyRelay::~PtyRelay() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
    thread_.stop_and_join();
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
