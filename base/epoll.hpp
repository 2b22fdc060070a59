// Epoll: an owned epoll instance; registrations carry a 64-bit token, not a pointer.
#pragma once

#include <cstdint>
#include <vector>

#include <sys/epoll.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

class Epoll {
public:
    static Result<Epoll> create();

    Result<void> add(int fd, uint32_t events, uint64_t token);
    Result<void> modify(int fd, uint32_t events, uint64_t token);
    // Removing an fd that is not registered (or already closed) is not an error.
    void remove(int fd);

    // Waits up to timeout_ms (-1: forever); EINTR returns an empty batch.
    Result<std::vector<epoll_event>> wait(int max_events, int timeout_ms);

    int get() const { return fd_.get(); }

private:
    explicit Epoll(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace runvm
