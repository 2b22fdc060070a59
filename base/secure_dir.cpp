// Run directories: mkdir, open without following a symlink, then owner and mode checks on
// the opened fd (what is checked is what is used).
#include "base/secure_dir.hpp"

#include <cerrno>
#include <cstdio>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runvm {

namespace {

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

Error refused(int err, const std::string& path, const std::string& rule) {
    return Error::with_errno(err, "run directory " + path + ": " + rule);
}

Result<UniqueFd> open_no_follow(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) {
        return fd;
    }
    // O_DIRECTORY | O_NOFOLLOW answers ENOTDIR (ELOOP without O_DIRECTORY) for a symlink.
    const Error e = Error::from_errno("open " + path);
    struct stat st {};
    if ((e.code() == ENOTDIR || e.code() == ELOOP) && ::lstat(path.c_str(), &st) == 0) {
        return Err(S_ISLNK(st.st_mode)
                       ? refused(ELOOP, path, "is a symlink (refused, not followed)")
                       : refused(ENOTDIR, path, "is not a directory"));
    }
    return Err(e);
}

Result<void> check_owned(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return Err(Error::from_errno("fstat " + path));
    }
    const uid_t euid = ::geteuid();
    if (st.st_uid != euid) {
        return Err(refused(EPERM, path,
                           "owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
                               std::to_string(euid) + " that runs runvm"));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return Err(refused(EPERM, path,
                           "mode " + octal(st.st_mode) + " lets group or others write to it"));
    }
    return Ok();
}

Result<void> make_parents(const std::string& path, mode_t mode) {
    for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
        const std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + part));
        }
    }
    return Ok();
}

} // namespace

Result<UniqueFd> open_owned_dir(const std::string& path) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, open_no_follow(path));
    RUNVM_TRY(check_owned(fd.get(), path));
    return fd;
}

Result<UniqueFd> open_owned_dir(const std::string& path, mode_t create_mode,
                                MissingParents parents) {
    if (parents == MissingParents::create) {
        RUNVM_TRY(make_parents(path, create_mode));
    }
    auto made = create_owned_dir(path, create_mode);
    if (made || made.error().code() != EEXIST) {
        return made;
    }
    return open_owned_dir(path);
}

Result<UniqueFd> create_owned_dir(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0) {
        return Err(Error::from_errno("mkdir " + path));
    }
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, open_owned_dir(path));
    // mkdir's mode went through the umask; ours is the exact one asked for.
    if (::fchmod(fd.get(), mode) != 0) {
        return Err(Error::from_errno("chmod " + path));
    }
    return fd;
}

} // namespace runvm
