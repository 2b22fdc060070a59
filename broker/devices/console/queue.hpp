// ConsoleOutput: the transmit queue's sink: appends each chain's bytes to the capped log.
#pragma once

#include <cstdint>
#include <vector>

#include "base/capped_log.hpp"
#include "broker/virtio/descriptor_chain.hpp"

namespace runvm::broker::console {

class ConsoleOutput {
public:
    explicit ConsoleOutput(CappedLog* log) : log_(log) {}

    // Writes the chain's readable bytes; returns the used length (0: nothing written back).
    uint32_t handle(const DescriptorChain& chain);

    uint64_t bytes() const { return bytes_; }
    uint64_t write_errors() const { return write_errors_; }

private:
    CappedLog* log_;
    uint64_t bytes_ = 0;
    uint64_t write_errors_ = 0;
    std::vector<iovec> iov_; // reused per chain
};

} // namespace runvm::broker::console
