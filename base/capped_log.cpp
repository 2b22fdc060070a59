// CappedLog: rotation by rename, so a reader never sees a file shrink under it mid-read.
#include "base/capped_log.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runvm {

namespace {

UniqueFd open_for_append(const std::string& path, int extra) {
    return UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra, 0640));
}

// The last `max` bytes of one file; "" when missing, empty or not a regular file.
std::string read_file_tail(const std::string& path, size_t max) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (max == 0 || !fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        return "";
    }
    const auto size = static_cast<size_t>(st.st_size);
    const size_t len = std::min(size, max);
    std::string out(len, '\0');
    const ssize_t n = ::pread(fd.get(), out.data(), len, static_cast<off_t>(size - len));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
}

} // namespace

Result<CappedLog> CappedLog::open(std::string path, uint64_t max_bytes) {
    CappedLog log;
    log.fd_ = open_for_append(path, 0);
    if (!log.fd_) {
        return Err(Error::from_errno("open log " + path));
    }
    struct stat st {};
    if (::fstat(log.fd_.get(), &st) != 0) {
        return Err(Error::from_errno("fstat log " + path));
    }
    log.path_ = std::move(path);
    log.half_ = max_bytes == 0 ? 0 : std::max<uint64_t>(max_bytes / 2, 1);
    log.size_ = static_cast<uint64_t>(st.st_size);
    if (log.half_ != 0 && log.size_ >= log.half_) {
        RUNVM_TRY(log.rotate());
    }
    return log;
}

Result<void> CappedLog::rotate() {
    const std::string old = path_ + ".1";
    if (::rename(path_.c_str(), old.c_str()) != 0 && errno != ENOENT) {
        return Err(Error::from_errno("rename " + path_ + " to " + old));
    }
    UniqueFd fd = open_for_append(path_, O_TRUNC);
    if (!fd) {
        return Err(Error::from_errno("open log " + path_));
    }
    fd_ = std::move(fd);
    size_ = 0;
    return Ok();
}

Result<void> CappedLog::write_all(const char* data, size_t len) {
    while (len > 0) {
        if (half_ != 0 && size_ >= half_) {
            RUNVM_TRY(rotate());
        }
        const size_t room = half_ == 0 ? len : static_cast<size_t>(half_ - size_);
        const ssize_t n = ::write(fd_.get(), data, std::min(len, room));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return Err(Error::from_errno("write log " + path_));
        }
        data += n;
        len -= static_cast<size_t>(n);
        size_ += static_cast<uint64_t>(n);
    }
    return Ok();
}

Result<void> CappedLog::append(const struct iovec* iov, int count) {
    if (!fd_) {
        return Err(Error::with_errno(EBADF, "write log: not open"));
    }
    for (int i = 0; i < count; ++i) {
        RUNVM_TRY(write_all(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len));
    }
    return Ok();
}

Result<void> CappedLog::append(std::string_view bytes) {
    struct iovec iov {
        const_cast<char*>(bytes.data()), bytes.size()
    };
    return append(&iov, 1);
}

std::string read_log_tail(const std::string& path, size_t max_bytes) {
    std::string tail = read_file_tail(path, max_bytes);
    if (tail.size() < max_bytes) {
        tail.insert(0, read_file_tail(path + ".1", max_bytes - tail.size()));
    }
    return tail;
}

} // namespace runvm
