// Epoll: epoll_create1/epoll_ctl/epoll_wait.
#include "base/epoll.hpp"

#include <cerrno>
#include <string>

namespace runvm {

Result<Epoll> Epoll::create() {
    UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("epoll_create1"));
    }
    return Epoll(std::move(fd));
}

Result<void> Epoll::add(int fd, uint32_t events, uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
        return Err(Error::from_errno("epoll_ctl ADD fd " + std::to_string(fd)));
    }
    return Ok();
}

Result<void> Epoll::modify(int fd, uint32_t events, uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
        return Err(Error::from_errno("epoll_ctl MOD fd " + std::to_string(fd)));
    }
    return Ok();
}

void Epoll::remove(int fd) {
    const int saved = errno;
    ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    errno = saved;
}

Result<std::vector<epoll_event>> Epoll::wait(int max_events, int timeout_ms) {
    std::vector<epoll_event> events(static_cast<size_t>(max_events));
    const int n = ::epoll_wait(fd_.get(), events.data(), max_events, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) {
            return std::vector<epoll_event>{};
        }
        return Err(Error::from_errno("epoll_wait"));
    }
    events.resize(static_cast<size_t>(n));
    return events;
}

} // namespace runvm
