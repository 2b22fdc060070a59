// ConsoleOutput: the transmit queue's sink: appends each chain's bytes to the log file.
#pragma once

#include <cstdint>

#include "broker/virtio/descriptor_chain.hpp"

namespace runvm::broker::console {

class ConsoleOutput {
public:
    explicit ConsoleOutput(int log_fd) : log_fd_(log_fd) {}

    // Writes the chain's readable bytes; returns the used length (0: nothing written back).
    uint32_t handle(const DescriptorChain& chain);

    uint64_t bytes() const { return bytes_; }
    uint64_t write_errors() const { return write_errors_; }

private:
    int log_fd_;
    uint64_t bytes_ = 0;
    uint64_t write_errors_ = 0;
};

} // namespace runvm::broker::console
