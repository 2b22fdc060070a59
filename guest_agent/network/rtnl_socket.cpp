// NETLINK_ROUTE request/ack round trips with a receive timeout.
#include "guest_agent/network/rtnl_socket.hpp"

#include <cerrno>
#include <ctime>

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

namespace runvm::agent::net {

Result<RtnlSocket> RtnlSocket::open(std::chrono::milliseconds timeout) {
    RtnlSocket s;
    s.fd_ = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s.fd_) {
        return Err(Error::from_errno("socket AF_NETLINK NETLINK_ROUTE"));
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(s.fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
        return Err(Error::from_errno("bind NETLINK_ROUTE socket"));
    }
    s.seq_ = static_cast<uint32_t>(::time(nullptr));
    s.timeout_ = timeout;
    return s;
}

Result<void> RtnlSocket::request(const NetlinkMessage& m, const std::string& what) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    const auto& b = m.bytes();
    if (::sendto(fd_.get(), b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof(kernel)) != static_cast<ssize_t>(b.size())) {
        return Err(Error::from_errno("sendto netlink: " + what));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    alignas(nlmsghdr) uint8_t buf[8192];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd_.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return Err(Error::with_errno(ready == 0 ? ETIMEDOUT : errno, "netlink ack of " + what));
        }
        const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("recv netlink: " + what));
        }
        bool found = false;
        RUNVM_TRY(check_ack(buf, static_cast<size_t>(n), m.seq(), what, &found));
        if (found) {
            return Ok();
        }
    }
}

} // namespace runvm::agent::net
