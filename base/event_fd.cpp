// EventFd: eventfd create/signal/drain/wait.
#include "base/event_fd.hpp"

#include <cerrno>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace runvm {

Result<EventFd> EventFd::create() {
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) {
        return Err(Error::from_errno("eventfd"));
    }
    return EventFd(std::move(fd));
}

Result<void> EventFd::signal() const {
    const uint64_t one = 1;
    for (;;) {
        if (::write(fd_.get(), &one, sizeof(one)) == sizeof(one)) {
            return Ok();
        }
        if (errno != EINTR) {
            return Err(Error::from_errno("write eventfd " + std::to_string(fd_.get())));
        }
    }
}

uint64_t EventFd::drain() const {
    uint64_t value = 0;
    while (::read(fd_.get(), &value, sizeof(value)) < 0 && errno == EINTR) {
    }
    return value;
}

Result<bool> EventFd::wait(int timeout_ms) const {
    pollfd p{fd_.get(), POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return Err(Error::from_errno("poll eventfd " + std::to_string(fd_.get())));
    }
    if (rc == 0) {
        return false;
    }
    drain();
    return true;
}

} // namespace runvm
