// ConsoleOutput: writev of guest output into the log, short writes retried.
#include "broker/devices/console/queue.hpp"

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>
#include <sys/uio.h>

namespace runvm::broker::console {

uint32_t ConsoleOutput::handle(const DescriptorChain& chain) {
    uint64_t offset = 0;
    while (offset < chain.readable_bytes) {
        auto iov = chain.readable_iov(offset, chain.readable_bytes - offset);
        const int count = static_cast<int>(std::min<size_t>(iov.size(), 1024));
        const ssize_t n = ::writev(log_fd_, iov.data(), count);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            // A full disk loses console output, never the guest.
            ++write_errors_;
            spdlog::warn("console: write log: {}", std::strerror(errno));
            break;
        }
        offset += static_cast<uint64_t>(n);
    }
    bytes_ += offset;
    return 0;
}

} // namespace runvm::broker::console
