// The host side of the hybrid vsock handshake, with deadlines on every step.
#include "shim/sandbox/hybrid_vsock.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"

namespace runvm::shim {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

// Reads one '\n'-terminated line byte by byte so nothing after it is consumed.
Result<std::string> read_line(int fd, Clock::time_point deadline, const std::string& what) {
    std::string line;
    constexpr size_t max_line = 64;
    while (line.size() < max_line) {
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return Err(Error::from_errno("poll " + what));
        }
        if (r == 0) {
            return Err(Error::with_errno(ETIMEDOUT, "handshake " + what));
        }
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return Err(Error::from_errno("read handshake " + what));
        }
        if (n == 0) {
            return Err(Error::with_errno(ECONNRESET, "handshake " + what + ": closed by peer"));
        }
        if (c == '\n') {
            return line;
        }
        line.push_back(c);
    }
    return Err(Error::msg("handshake " + what + ": reply line too long"));
}

} // namespace

Result<uint32_t> parse_vsock_ok(const std::string& line) {
    if (line.rfind("OK ", 0) != 0) {
        return Err(Error::msg("vsock handshake: expected \"OK <port>\", got \"" +
                              line.substr(0, 32) + "\""));
    }
    uint32_t port = 0;
    const char* begin = line.data() + 3;
    const char* end = line.data() + line.size();
    auto [p, ec] = std::from_chars(begin, end, port);
    if (ec != std::errc() || p != end) {
        return Err(Error::msg("vsock handshake: bad port in \"" + line.substr(0, 32) + "\""));
    }
    return port;
}

Result<UniqueFd> vsock_connect(const std::string& uds, uint32_t port,
                               std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::string what = uds + " port " + std::to_string(port);
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, connect_unix(uds, false));
    const std::string hello = "CONNECT " + std::to_string(port) + "\n";
    RUNVM_TRY(write_all(fd.get(), hello.data(), hello.size(), what.c_str()));
    RUNVM_ASSIGN_OR_RETURN(std::string line, read_line(fd.get(), deadline, what));
    RUNVM_TRY(parse_vsock_ok(line));
    return fd;
}

Result<UniqueFd> vsock_connect_retry(const std::string& uds, uint32_t port,
                                     Clock::time_point deadline,
                                     const std::function<Result<void>()>& keep_going) {
    Error last = Error::with_errno(ETIMEDOUT, "vsock connect " + uds);
    auto pause = std::chrono::milliseconds(5);
    while (Clock::now() < deadline) {
        if (keep_going) {
            RUNVM_TRY(keep_going());
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        auto fd = vsock_connect(uds, port, std::min(left, std::chrono::milliseconds(1000)));
        if (fd) {
            return fd;
        }
        last = std::move(fd).error();
        spdlog::debug("vsock connect {} port {}: {}", uds, port, last.str());
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    return Err(Error::with_errno(
        ETIMEDOUT, "agent on vsock port " + std::to_string(port) +
                       " did not answer before the deadline (last: " + last.str() + ")"));
}

std::string vsock_host_port_path(const std::string& uds, uint32_t port) {
    return uds + "_" + std::to_string(port);
}

Result<UniqueFd> listen_vsock_port(const std::string& uds, uint32_t port, int backlog) {
    const std::string path = vsock_host_port_path(uds, port);
    RUNVM_ASSIGN_OR_RETURN(UniqueFd listener, listen_unix(path, backlog));
    const std::string dir = path.substr(0, path.rfind('/') + 1);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return Err(Error::from_errno("stat " + dir));
    }
    if ((st.st_uid != ::geteuid() || st.st_gid != ::getegid()) &&
        ::fchownat(AT_FDCWD, path.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return Err(Error::from_errno("chown " + path + " to the owner of " + dir));
    }
    return listener;
}

Result<UniqueFd> vsock_accept_guest(int listener, Clock::time_point deadline,
                                    const std::function<Result<void>()>& keep_going) {
    // The slice bounds how late a dead VM is noticed, not how late the guest is served.
    constexpr int slice_ms = 20;
    for (;;) {
        if (keep_going) {
            RUNVM_TRY(keep_going());
        }
        const int left = remaining_ms(deadline);
        if (left == 0) {
            return Err(Error::with_errno(
                ETIMEDOUT, "the agent did not answer before the deadline (it never dialed in)"));
        }
        pollfd p{listener, POLLIN, 0};
        const int r = ::poll(&p, 1, std::min(left, slice_ms));
        if (r < 0 && errno != EINTR) {
            return Err(Error::from_errno("poll agent listener"));
        }
        if (r <= 0) {
            continue;
        }
        RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, accept_unix(listener, false, "agent listener"));
        if (fd) {
            return fd;
        }
    }
}

} // namespace runvm::shim
