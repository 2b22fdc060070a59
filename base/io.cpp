// Whole-buffer fd I/O and atomic file replacement.
#include "base/io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm {

Result<void> write_all(int fd, const void* buf, size_t len, const char* what) {
    const auto* p = static_cast<const char*>(buf);
    while (len > 0) {
        const ssize_t n = ::write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno(std::string("write ") + what));
        }
        p += n;
        len -= static_cast<size_t>(n);
    }
    return Ok();
}

Result<bool> read_exact(int fd, void* buf, size_t len, const char* what) {
    auto* p = static_cast<char*>(buf);
    size_t done = 0;
    while (done < len) {
        const ssize_t n = ::read(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno(std::string("read ") + what));
        }
        if (n == 0) {
            if (done == 0) {
                return false;
            }
            return Err(Error::msg(std::string("read ") + what + ": unexpected end of stream"));
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

Result<std::string> read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("read " + path));
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<void> write_file_atomic(const std::string& path, const std::string& data, int mode) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       static_cast<mode_t>(mode)));
    if (!fd) {
        return Err(Error::from_errno("open " + tmp));
    }
    if (auto r = write_all(fd.get(), data.data(), data.size(), tmp.c_str()); !r) {
        ::unlink(tmp.c_str());
        return r;
    }
    if (::fsync(fd.get()) != 0) {
        Error e = Error::from_errno("fsync " + tmp);
        ::unlink(tmp.c_str());
        return Err(std::move(e));
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Error e = Error::from_errno("rename " + tmp + " to " + path);
        ::unlink(tmp.c_str());
        return Err(std::move(e));
    }
    return Ok();
}

} // namespace runvm
