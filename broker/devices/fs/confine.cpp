// check_name, open_beneath (openat2) and ProcSelfFd.
#include "broker/devices/fs/confine.hpp"

#include <cerrno>
#include <climits>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace runvm::broker::fs {

int check_name(std::string_view name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
        return EINVAL;
    }
    if (name.size() > NAME_MAX) {
        return ENAMETOOLONG;
    }
    return 0;
}

int open_beneath(int dirfd, const char* name, int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.mode =
        (flags & (O_CREAT | O_TMPFILE)) != 0 ? (mode & 07777) : 0; // openat2 refuses type bits
    // The name is one component already (check_name), so BENEATH and the two NO_* flags
    // are a second wall: nothing resolved here can leave dirfd or jump through /proc.
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        const long fd = ::syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
        if (fd >= 0) {
            return static_cast<int>(fd);
        }
        if (errno != EINTR && errno != EAGAIN) {
            return -errno;
        }
    }
}

Result<ProcSelfFd> ProcSelfFd::open() {
    UniqueFd fd(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /proc/self/fd"));
    }
    return ProcSelfFd(std::move(fd));
}

int ProcSelfFd::reopen(int fd, int flags) const {
    const int r = ::openat(fd_.get(), name(fd).c_str(), (flags & ~O_NOFOLLOW) | O_CLOEXEC);
    return r >= 0 ? r : -errno;
}

std::string ProcSelfFd::path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace runvm::broker::fs
