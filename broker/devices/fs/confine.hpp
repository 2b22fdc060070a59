// Confinement of guest-supplied names: single path components opened beneath a directory
// fd without following symlinks or magic links, and re-opening of O_PATH inode fds
// through /proc/self/fd (never through a path the guest can influence).
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::broker::fs {

// 0 when `name` is one path component the guest may create or look up; else the errno
// to answer with (EINVAL: empty, '/', '.' or '..'; ENAMETOOLONG: over NAME_MAX).
int check_name(std::string_view name);

// openat2(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode) with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS; returns -errno on failure.
int open_beneath(int dirfd, const char* name, int flags, mode_t mode = 0);

// /proc/self/fd, opened once before hardening, to turn an O_PATH fd into a real open
// file or a path the *xattr calls accept, without ever resolving a guest-given path.
class ProcSelfFd {
public:
    static Result<ProcSelfFd> open();

    // Opens the file behind `fd` with `flags`; -errno on failure. Callers must not pass
    // a symlink's fd (the magic link would be followed to its target).
    int reopen(int fd, int flags) const;
    // "/proc/self/fd/<fd>" for the path-based calls (getxattr, fchmodat, utimensat).
    static std::string path(int fd);
    // The same relative to get() ("<fd>"), for the *at calls.
    static std::string name(int fd) { return std::to_string(fd); }
    int get() const { return fd_.get(); }

private:
    explicit ProcSelfFd(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace runvm::broker::fs
