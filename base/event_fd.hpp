// EventFd: an owned eventfd used as a doorbell (virtqueue kick/call, loop wake-up).
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

class EventFd {
public:
    EventFd() = default;
    explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}

    // eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).
    static Result<EventFd> create();

    // Adds 1 to the counter; `what` names the doorbell in errors.
    Result<void> signal() const;
    // Reads and clears the counter; 0 when it was already clear.
    uint64_t drain() const;
    // Waits up to timeout_ms for the counter to become non-zero, then clears it.
    // Returns false on timeout.
    Result<bool> wait(int timeout_ms) const;

    int get() const { return fd_.get(); }
    bool valid() const { return fd_.valid(); }
    UniqueFd& fd() { return fd_; }

private:
    UniqueFd fd_;
};

} // namespace runvm
