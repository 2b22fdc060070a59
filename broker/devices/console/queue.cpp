// ConsoleOutput: guest output into the capped log (rotated, short writes retried there).
#include "broker/devices/console/queue.hpp"

#include <spdlog/spdlog.h>

namespace runvm::broker::console {

uint32_t ConsoleOutput::handle(const DescriptorChain& chain) {
    chain.readable_iov(0, chain.readable_bytes, iov_);
    // A full disk loses console output, never the guest.
    if (auto r = log_->append(iov_.data(), static_cast<int>(iov_.size())); !r) {
        if (write_errors_++ == 0) {
            spdlog::warn("console: {}", r.error().str());
        }
        return 0;
    }
    bytes_ += chain.readable_bytes;
    return 0;
}

} // namespace runvm::broker::console
