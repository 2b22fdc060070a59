// TestGuestMemory: a memfd standing in for a VM's RAM on the frontend side of tests and
// benchmarks, with a bump allocator for rings and buffers.
#pragma once

#include <cstdint>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::broker::testing {

class TestGuestMemory {
public:
    // `size` bytes of RAM seen by the guest at guest-physical `base`.
    static Result<TestGuestMemory> create(uint64_t size, uint64_t base = 0x100000);

    // Reserves `len` bytes aligned to `align`; returns the guest-physical address.
    uint64_t alloc(uint64_t len, uint64_t align = 64);

    uint8_t* host(uint64_t gpa) const { return mapping_.data() + (gpa - base_); }
    // The frontend's own address of `gpa` (what vhost-user vring addresses carry).
    uint64_t user_addr(uint64_t gpa) const { return reinterpret_cast<uint64_t>(host(gpa)); }

    int fd() const { return fd_.get(); }
    uint64_t base() const { return base_; }
    uint64_t size() const { return mapping_.size(); }
    uint64_t free_bytes() const { return base_ + size() - next_; }

private:
    TestGuestMemory(UniqueFd fd, Mapping mapping, uint64_t base)
        : fd_(std::move(fd)), mapping_(std::move(mapping)), base_(base), next_(base) {}
    UniqueFd fd_;
    Mapping mapping_;
    uint64_t base_;
    uint64_t next_;
};

} // namespace runvm::broker::testing
