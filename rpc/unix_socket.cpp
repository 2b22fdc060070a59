// Unix stream socket setup for the ttRPC server and client.
#include "rpc/unix_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace runvm::rpc {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        return Err(Error::msg("unix socket path '" + path + "': length " +
                              std::to_string(path.size()) + " not in 1.." +
                              std::to_string(sizeof addr.sun_path - 1)));
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

Result<UniqueFd> new_socket(const std::string& path, int extra_flags) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_UNIX for " + path));
    }
    return fd;
}

int connect_once(int fd, const sockaddr_un& addr) {
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    return rc == 0 ? 0 : errno;
}

Result<void> remove_stale_socket(const std::string& path, const sockaddr_un& addr) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return Ok();
        }
        return Err(Error::from_errno("lstat " + path));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return Err(Error::with_errno(EEXIST, "listen " + path + ": exists and is not a socket"));
    }
    RUNVM_ASSIGN_OR_RETURN(UniqueFd probe, new_socket(path, 0));
    const int err = connect_once(probe.get(), addr);
    if (err == 0) {
        return Err(Error::with_errno(EADDRINUSE, "listen " + path + ": a server accepts there"));
    }
    if (err != ECONNREFUSED) {
        return Err(Error::with_errno(err, "connect " + path + " (probing for a stale socket)"));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Err(Error::from_errno("unlink stale socket " + path));
    }
    return Ok();
}

} // namespace

Result<UniqueFd> listen_unix_socket(const std::string& path, int backlog) {
    RUNVM_ASSIGN_OR_RETURN(const sockaddr_un addr, unix_address(path));
    RUNVM_TRY(remove_stale_socket(path, addr));
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, new_socket(path, 0));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return Err(Error::from_errno("bind " + path));
    }
    if (::listen(fd.get(), backlog) != 0) {
        Error e = Error::from_errno("listen " + path);
        ::unlink(path.c_str());
        return Err(std::move(e));
    }
    return fd;
}

Result<UniqueFd> connect_unix_socket(const std::string& path, std::chrono::milliseconds timeout) {
    RUNVM_ASSIGN_OR_RETURN(const sockaddr_un addr, unix_address(path));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        // A Unix-socket connect() does not go "in progress": it succeeds, fails, or (full
        // backlog) blocks; a blocking one would ignore the deadline, so a nonblocking
        // attempt is retried instead.
        RUNVM_ASSIGN_OR_RETURN(UniqueFd nb, new_socket(path, SOCK_NONBLOCK));
        const int err = connect_once(nb.get(), addr);
        if (err == 0) {
            const int flags = ::fcntl(nb.get(), F_GETFL);
            if (flags < 0 || ::fcntl(nb.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
                return Err(Error::from_errno("fcntl O_NONBLOCK off for " + path));
            }
            return nb;
        }
        const bool retry = err == ENOENT || err == ECONNREFUSED || err == EAGAIN;
        if (!retry || std::chrono::steady_clock::now() >= deadline) {
            return Err(Error::with_errno(
                err, "connect " + path +
                         (retry ? " (gave up after " + std::to_string(timeout.count()) + " ms)"
                                : std::string())));
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

Result<void> check_stream_socket(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
        return Err(Error::from_errno("getsockopt SO_TYPE fd " + std::to_string(fd) +
                                     " (ttRPC needs a stream socket)"));
    }
    if (type != SOCK_STREAM) {
        return Err(Error::msg("fd " + std::to_string(fd) + ": socket type " + std::to_string(type) +
                              ", ttRPC needs SOCK_STREAM"));
    }
    return Ok();
}

} // namespace runvm::rpc
