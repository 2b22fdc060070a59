// SyncChannel: fixed-size messages over SOCK_SEQPACKET, one optional fd each.
#include "guest_agent/launcher/sync_channel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>

namespace runvm::agent {

namespace {
template <size_t N>
void copy_text(char (&dst)[N], const std::string& src) {
    const size_t n = std::min(N - 1, src.size());
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}
} // namespace

Error sync_error(const SyncMessage& m) {
    std::string step(m.step, strnlen(m.step, sizeof m.step));
    std::string text(m.text, strnlen(m.text, sizeof m.text));
    return Error::with_errno(m.err, text.empty() ? step : step + ": " + text);
}

Result<std::pair<SyncChannel, SyncChannel>> SyncChannel::create_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
        return Err(Error::from_errno("socketpair launcher sync"));
    }
    return std::pair<SyncChannel, SyncChannel>{SyncChannel(UniqueFd(fds[0])),
                                               SyncChannel(UniqueFd(fds[1]))};
}

Result<void> SyncChannel::send(const SyncMessage& m, int fd_to_pass) const {
    iovec iov{const_cast<SyncMessage*>(&m), sizeof m};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd_to_pass >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
    }
    for (;;) {
        if (::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL) >= 0) {
            return Ok();
        }
        if (errno != EINTR) {
            return Err(Error::from_errno("sendmsg launcher sync"));
        }
    }
}

Result<void> SyncChannel::send_type(SyncType t, int32_t value) const {
    SyncMessage m;
    m.type = t;
    m.value = value;
    return send(m);
}

void SyncChannel::send_error(const char* step, const Error& e) const {
    SyncMessage m;
    m.type = SyncType::error;
    m.err = e.code();
    copy_text(m.step, step);
    copy_text(m.text, e.message());
    (void)send(m);
}

Result<SyncChannel::Received> SyncChannel::receive(std::chrono::milliseconds timeout) const {
    pollfd p{fd_.get(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int wait_ms = -1;
        if (timeout.count() >= 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
        }
        const int n = ::poll(&p, 1, wait_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return Err(Error::from_errno("poll launcher sync"));
        }
        if (n == 0) {
            return Err(Error::with_errno(ETIMEDOUT, "wait for container init"));
        }
        break;
    }
    Received r;
    iovec iov{&r.msg, sizeof r.msg};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return Err(Error::from_errno("recvmsg launcher sync"));
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            r.fd.reset(fd);
        }
    }
    if (n == 0) {
        r.closed = true;
        return r;
    }
    if (static_cast<size_t>(n) != sizeof r.msg) {
        return Err(Error::with_errno(EPROTO, "recvmsg launcher sync: short message"));
    }
    return r;
}

} // namespace runvm::agent
