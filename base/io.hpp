// Whole-buffer read/write on fds, retrying EINTR and short transfers.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.hpp"

namespace runvm {

// Writes all of buf; `what` names the fd's object in errors.
Result<void> write_all(int fd, const void* buf, size_t len, const char* what);

// Reads exactly len bytes. Returns false (not an error) on EOF before the first byte;
// EOF after a partial read is an error.
Result<bool> read_exact(int fd, void* buf, size_t len, const char* what);

Result<std::string> read_file(const std::string& path);

// Writes a file atomically: a temporary beside it, fsync, rename.
Result<void> write_file_atomic(const std::string& path, const std::string& data, int mode);

} // namespace runvm
