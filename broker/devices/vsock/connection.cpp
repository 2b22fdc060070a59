// VsockConnection: non-blocking writes to the host socket with a bounded backlog.
#include "broker/devices/vsock/connection.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <sys/uio.h>

namespace runvm::broker::vsock {

namespace {

// sendmsg so a peer that went away yields EPIPE instead of SIGPIPE.
ssize_t send_iov(int fd, const iovec* iov, int count) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n;
    do {
        n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

} // namespace

Result<void> VsockConnection::send_to_host(const iovec* iov, int count, uint64_t len) {
    if (len == 0) {
        return Ok();
    }
    uint64_t written = 0;
    if (pending_.empty()) {
        const ssize_t n = send_iov(host_.get(), iov, count);
        if (n < 0 && errno != EAGAIN) {
            return Err(
                Error::from_errno("vsock: send to host port " + std::to_string(key_.host_port)));
        }
        written = n < 0 ? 0 : static_cast<uint64_t>(n);
        fwd_cnt_ += static_cast<uint32_t>(written);
    }
    const uint64_t rest = len - written;
    if (pending_.size() + rest > HOST_BUF_ALLOC) {
        return Err(Error::with_errno(ENOBUFS, "vsock: guest sent past its credit on port " +
                                                  std::to_string(key_.host_port)));
    }
    uint64_t skip = written;
    for (int i = 0; i < count; ++i) {
        const auto* base = static_cast<const char*>(iov[i].iov_base);
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        pending_.append(base + skip, iov[i].iov_len - skip);
        skip = 0;
    }
    return Ok();
}

Result<bool> VsockConnection::flush_to_host() {
    while (!pending_.empty()) {
        const iovec iov{pending_.data(), pending_.size()};
        const ssize_t n = send_iov(host_.get(), &iov, 1);
        if (n < 0) {
            if (errno == EAGAIN) {
                return false;
            }
            return Err(
                Error::from_errno("vsock: send to host port " + std::to_string(key_.host_port)));
        }
        pending_.erase(0, static_cast<size_t>(n));
        fwd_cnt_ += static_cast<uint32_t>(n);
    }
    return true;
}

} // namespace runvm::broker::vsock
