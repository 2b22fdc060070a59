// FuseServer: GETATTR, SETATTR, READLINK, STATFS, ACCESS on O_PATH inodes.
#include <cerrno>
#include <climits>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "broker/devices/fs/queue.hpp"
#include "broker/devices/fs/wire.hpp"

namespace runvm::broker::fs {

int FuseServer::op_getattr(const FuseRequest& r) {
    size_t at = 0;
    fuse_getattr_in in{};
    const bool has_in = r.take(&at, &in);
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    struct stat st {};
    if (has_in && (in.getattr_flags & FUSE_GETATTR_FH) != 0 && handles_.file(in.fh) >= 0) {
        if (::fstat(handles_.file(in.fh), &st) < 0) {
            return errno;
        }
    } else if (const int err = stat_inode(*n, &st); err != 0) {
        return err;
    }
    reply_.add(attr_out(st));
    return 0;
}

int FuseServer::op_setattr(const FuseRequest& r) {
    size_t at = 0;
    fuse_setattr_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    const int fh = (in.valid & FATTR_FH) != 0 ? handles_.file(in.fh) : -1;
    if ((in.valid & FATTR_FH) != 0 && fh < 0) {
        return EBADF;
    }
    const int fd = n->fd.get();
    const std::string via_proc = ProcSelfFd::name(fd);
    if ((in.valid & (FATTR_UID | FATTR_GID)) != 0 && !n->setid_ok) {
        // Ownership stays the host's: a chown that changes the owner or group is refused
        // before anything of the request is applied; one that changes nothing (cp -p, tar)
        // succeeds.
        struct stat now {};
        if (::fstatat(fd, "", &now, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
            return errno;
        }
        if (((in.valid & FATTR_UID) != 0 && in.uid != now.st_uid) ||
            ((in.valid & FATTR_GID) != 0 && in.gid != now.st_gid)) {
            return EPERM;
        }
    }
    if ((in.valid & FATTR_MODE) != 0) {
        if (n->is_symlink()) {
            return EOPNOTSUPP; // Linux has no symlink modes
        }
        // fchmodat through /proc/self/fd reaches exactly the held inode (O_PATH fds
        // refuse fchmod); the inode is not a symlink, so nothing else is followed.
        const mode_t mode = allowed_mode(n->type | (in.mode & 07777), n->setid_ok) & 07777;
        const int rc =
            fh >= 0 ? ::fchmod(fh, mode) : ::fchmodat(proc_.get(), via_proc.c_str(), mode, 0);
        if (rc < 0) {
            return errno;
        }
    }
    if ((in.valid & (FATTR_UID | FATTR_GID)) != 0) {
        const uid_t uid = (in.valid & FATTR_UID) != 0 ? in.uid : static_cast<uid_t>(-1);
        const gid_t gid = (in.valid & FATTR_GID) != 0 ? in.gid : static_cast<gid_t>(-1);
        // Without allow_setid nothing is left to do: the check above refused any change.
        if (n->setid_ok && ::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
            return errno;
        }
    }
    if ((in.valid & FATTR_SIZE) != 0) {
        if (n->is_dir()) {
            return EISDIR;
        }
        if (!n->is_regular()) {
            return EINVAL;
        }
        int target = fh;
        UniqueFd reopened;
        if (target < 0) {
            const int w = proc_.reopen(fd, O_WRONLY);
            if (w < 0) {
                return -w;
            }
            reopened.reset(w);
            target = w;
        }
        if (const int err = remove_privs(n->setid_ok, target); err != 0) {
            return err;
        }
        if (::ftruncate(target, static_cast<off_t>(in.size)) < 0) {
            return errno;
        }
    }
    if ((in.valid & (FATTR_ATIME | FATTR_MTIME)) != 0) {
        timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
        if ((in.valid & FATTR_ATIME) != 0) {
            ts[0] = (in.valid & FATTR_ATIME_NOW) != 0
                        ? timespec{0, UTIME_NOW}
                        : timespec{static_cast<time_t>(in.atime), static_cast<long>(in.atimensec)};
        }
        if ((in.valid & FATTR_MTIME) != 0) {
            ts[1] = (in.valid & FATTR_MTIME_NOW) != 0
                        ? timespec{0, UTIME_NOW}
                        : timespec{static_cast<time_t>(in.mtime), static_cast<long>(in.mtimensec)};
        }
        int rc;
        if (fh >= 0) {
            rc = ::futimens(fh, ts);
        } else if (n->is_symlink()) {
            rc = ::utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
        } else {
            rc = ::utimensat(proc_.get(), via_proc.c_str(), ts, 0);
        }
        if (rc < 0) {
            return errno;
        }
    }
    struct stat st {};
    if (const int err = stat_inode(*n, &st); err != 0) {
        return err;
    }
    reply_.add(attr_out(st));
    return 0;
}

int FuseServer::op_readlink(const FuseRequest& r) {
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    if (!n->is_symlink()) {
        return EINVAL;
    }
    char* buf = reinterpret_cast<char*>(reply_.extend(PATH_MAX));
    const ssize_t len = ::readlinkat(n->fd.get(), "", buf, PATH_MAX);
    if (len < 0) {
        return errno;
    }
    reply_.truncate(sizeof(fuse_out_header) + static_cast<size_t>(len));
    return 0;
}

int FuseServer::op_statfs(const FuseRequest& r) {
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        n = inodes_.get(InodeTable::ROOT);
    }
    struct statfs s {};
    if (::fstatfs(n->fd.get(), &s) < 0) {
        return errno;
    }
    fuse_statfs_out out{};
    out.st.blocks = s.f_blocks;
    out.st.bfree = s.f_bfree;
    out.st.bavail = s.f_bavail;
    out.st.files = s.f_files;
    out.st.ffree = s.f_ffree;
    out.st.bsize = static_cast<uint32_t>(s.f_bsize);
    out.st.namelen = static_cast<uint32_t>(s.f_namelen);
    out.st.frsize = static_cast<uint32_t>(s.f_frsize);
    reply_.add(out);
    return 0;
}

int FuseServer::op_access(const FuseRequest& r) {
    size_t at = 0;
    fuse_access_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    if (n->is_symlink()) {
        return 0; // access() follows symlinks in the guest; the link itself is always there
    }
    if (options_.read_only && (in.mask & W_OK) != 0) {
        return EROFS;
    }
    const std::string via_proc = ProcSelfFd::name(n->fd.get());
    if (::faccessat(proc_.get(), via_proc.c_str(), static_cast<int>(in.mask), AT_EACCESS) < 0) {
        return errno;
    }
    return 0;
}

} // namespace runvm::broker::fs
