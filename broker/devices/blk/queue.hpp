// BlkRequestQueue: serves virtio-blk requests against the image fd; every request ends
// with a status byte, host I/O errors included, and never with a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/uio.h>

#include "broker/devices/blk/config.hpp"
#include "broker/virtio/descriptor_chain.hpp"

namespace runvm::broker::blk {

struct BlkStats {
    uint64_t requests = 0;
    uint64_t io_errors = 0;
    uint64_t unsupported = 0;
    uint64_t malformed = 0;
};

class BlkRequestQueue {
public:
    BlkRequestQueue(int fd, uint64_t size_bytes, const BlkOptions& options, std::string id)
        : fd_(fd), size_bytes_(size_bytes), options_(options), id_(std::move(id)) {}

    // Serves one request; returns the used length (bytes written to the driver).
    uint32_t handle(const DescriptorChain& chain);

    const BlkStats& stats() const { return stats_; }

private:
    uint8_t read(const DescriptorChain& chain, uint64_t sector, uint64_t len, uint32_t* done);
    uint8_t write(const DescriptorChain& chain, uint64_t sector, uint64_t len);
    uint8_t flush();
    uint8_t discard_or_zero(const DescriptorChain& chain, uint32_t type);
    bool in_range(uint64_t sector, uint64_t len) const;

    int fd_;
    uint64_t size_bytes_;
    BlkOptions options_;
    std::string id_;
    BlkStats stats_;
    std::vector<iovec> iov_; // reused by every read and write: no allocation per request
};

} // namespace runvm::broker::blk
