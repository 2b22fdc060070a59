// Unix stream sockets and SCM_RIGHTS fd passing.
#include "base/unix_socket.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace runvm {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return Err(Error::with_errno(ENAMETOOLONG, "unix socket path '" + path +
                                                       "': empty or longer than " +
                                                       std::to_string(sizeof(addr.sun_path) - 1)));
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

} // namespace

Result<UniqueFd> listen_unix(const std::string& path, int backlog) {
    RUNVM_ASSIGN_OR_RETURN(sockaddr_un addr, unix_address(path));
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_UNIX for " + path));
    }
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
        return Err(Error::from_errno("unlink " + path));
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
        return Err(Error::from_errno("bind " + path));
    }
    if (::listen(fd.get(), backlog) < 0) {
        return Err(Error::from_errno("listen " + path));
    }
    return fd;
}

Result<UniqueFd> connect_unix(const std::string& path, bool nonblocking) {
    RUNVM_ASSIGN_OR_RETURN(sockaddr_un addr, unix_address(path));
    const int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    UniqueFd fd(::socket(AF_UNIX, type, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_UNIX for " + path));
    }
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return Err(Error::from_errno("connect " + path));
    }
    return fd;
}

Result<UniqueFd> accept_unix(int listen_fd, bool nonblocking, const char* what) {
    const int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    for (;;) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, flags);
        if (fd >= 0) {
            return UniqueFd(fd);
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EAGAIN) {
            return UniqueFd();
        }
        return Err(Error::from_errno(std::string("accept4 ") + what));
    }
}

Result<void> send_with_fds(int fd, const void* buf, size_t len, const std::vector<int>& fds,
                           const char* what) {
    const auto* p = static_cast<const char*>(buf);
    bool fds_sent = fds.empty();
    while (len > 0 || !fds_sent) {
        iovec iov{const_cast<char*>(p), len};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        std::vector<char> control;
        if (!fds_sent) {
            control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
            msg.msg_control = control.data();
            msg.msg_controllen = control.size();
            cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
        }
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno(std::string("sendmsg ") + what));
        }
        fds_sent = true;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return Ok();
}

Result<ReceivedFds> recv_with_fds(int fd, void* buf, size_t len, size_t max_fds, const char* what) {
    std::vector<char> control(CMSG_SPACE(sizeof(int) * (max_fds == 0 ? 1 : max_fds)));
    iovec iov{buf, len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n;
    do {
        n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return Err(Error::from_errno(std::string("recvmsg ") + what));
    }
    ReceivedFds out;
    out.bytes = static_cast<size_t>(n);
    out.fds_truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int received;
            std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            out.fds.emplace_back(received);
        }
    }
    return out;
}

Result<void> set_nonblocking(int fd, bool on, const char* what) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
        return Err(Error::from_errno(std::string("fcntl F_GETFL ") + what));
    }
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) {
        return Err(Error::from_errno(std::string("fcntl F_SETFL ") + what));
    }
    return Ok();
}

} // namespace runvm
