// DescriptorChain: one request taken off a virtqueue, as host-pointer segments that were
// bounds-checked against guest memory when the chain was walked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <sys/uio.h>

namespace runvm::broker {

struct Segment {
    uint8_t* host;
    uint32_t len;
};

struct DescriptorChain {
    uint16_t head = 0;
    // Device-readable segments come first in a well-formed chain, then writable ones.
    std::vector<Segment> readable;
    std::vector<Segment> writable;
    uint64_t readable_bytes = 0;
    uint64_t writable_bytes = 0;

    // Empties the chain but keeps the vectors' capacity, so a device that reuses one
    // DescriptorChain for every pop allocates nothing per request.
    void clear();

    // Copies up to len bytes of the readable part starting at `offset`; returns the count.
    size_t read(uint64_t offset, void* out, size_t len) const;
    // Copies up to len bytes into the writable part starting at `offset`; returns the count.
    size_t write(uint64_t offset, const void* in, size_t len) const;
    // iovecs over [offset, offset + len) of the readable or writable part (clamped).
    std::vector<iovec> readable_iov(uint64_t offset, uint64_t len) const;
    std::vector<iovec> writable_iov(uint64_t offset, uint64_t len) const;
    // The same into `out` (cleared first; its capacity is reused on the hot paths).
    void readable_iov(uint64_t offset, uint64_t len, std::vector<iovec>& out) const;
    void writable_iov(uint64_t offset, uint64_t len, std::vector<iovec>& out) const;
};

} // namespace runvm::broker
