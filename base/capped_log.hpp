// CappedLog: an append-only log kept within a size cap by rotation (<file>, <file>.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/uio.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

class CappedLog {
public:
    CappedLog() = default;

    // Opens (creates) `path` for appending. `max_bytes` 0: no cap; else <path> and <path>.1
    // each stay within max_bytes / 2, so the two together within max_bytes.
    [[nodiscard]] static Result<CappedLog> open(std::string path, uint64_t max_bytes);

    // Appends every byte, moving <path> to <path>.1 whenever the next byte would pass the half
    // cap: the newest bytes are always kept.
    [[nodiscard]] Result<void> append(const struct iovec* iov, int count);
    [[nodiscard]] Result<void> append(std::string_view bytes);

    const std::string& path() const { return path_; }
    bool is_open() const { return static_cast<bool>(fd_); }

private:
    [[nodiscard]] Result<void> rotate();
    [[nodiscard]] Result<void> write_all(const char* data, size_t len);

    std::string path_;
    UniqueFd fd_;
    uint64_t half_ = 0; // 0: no cap
    uint64_t size_ = 0; // of <path>
};

// The last `max_bytes` of a capped log: the end of <path>.1, then <path>. "" when neither is
// a regular file with bytes in it; never follows a symlink, never reads more than max_bytes.
std::string read_log_tail(const std::string& path, size_t max_bytes);

} // namespace runvm
