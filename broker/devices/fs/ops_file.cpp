// FuseServer: OPEN(DIR), CREATE, READ, WRITE (straight between the file and guest memory),
// RELEASE(DIR), FSYNC(DIR), FLUSH, FALLOCATE, LSEEK, COPY_FILE_RANGE.
#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/queue.hpp"

namespace runvm::broker::fs {

namespace {

constexpr size_t IOV_BATCH = 1024;            // IOV_MAX
constexpr uint64_t MAX_COPY_RANGE = 16 << 20; // one COPY_FILE_RANGE; the guest loops

// The guest's open flags, less those that would change how the broker resolves or waits.
// O_NONBLOCK: an open never waits on the fs thread (a lease held on the host file answers
// EWOULDBLOCK instead of a 45 s lease break; only regular files are opened, so reads and
// writes are unaffected).
int host_open_flags(uint32_t guest_flags) {
    const int strip = O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | O_DIRECT | O_DIRECTORY | O_PATH |
                      O_TMPFILE | O_CLOEXEC;
    return (static_cast<int>(guest_flags) & ~strip) | O_NONBLOCK;
}

uint32_t open_out_flags(CacheMode mode) {
    switch (mode) {
    case CacheMode::none:
        return FOPEN_DIRECT_IO;
    case CacheMode::always:
        return FOPEN_KEEP_CACHE;
    case CacheMode::auto_:
        break;
    }
    return 0;
}

bool writes(int flags) {
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
}

// preadv/pwritev over all of `iov` at `offset`; returns bytes moved or -errno. A read
// stops at end of file.
ssize_t transfer(int fd, std::vector<iovec>& iov, uint64_t offset, bool to_file) {
    size_t first = 0;
    uint64_t done = 0;
    while (first < iov.size()) {
        const int count = static_cast<int>(std::min(IOV_BATCH, iov.size() - first));
        const auto at = static_cast<off_t>(offset + done);
        const ssize_t n =
            to_file ? ::pwritev(fd, &iov[first], count, at) : ::preadv(fd, &iov[first], count, at);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return done > 0 ? static_cast<ssize_t>(done) : -errno;
        }
        if (n == 0) {
            break;
        }
        done += static_cast<uint64_t>(n);
        auto left = static_cast<size_t>(n);
        while (first < iov.size() && left >= iov[first].iov_len) {
            left -= iov[first].iov_len;
            ++first;
        }
        if (left > 0) {
            iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
    }
    return static_cast<ssize_t>(done);
}

} // namespace

int FuseServer::op_open(const FuseRequest& r, bool dir) {
    size_t at = 0;
    fuse_open_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    if (handles_.size() >= options_.max_handles) {
        return ENFILE; // the share's handle ceiling
    }
    int fd;
    if (dir) {
        if (!n->is_dir()) {
            return ENOTDIR;
        }
        fd = ::openat(n->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fd = fd < 0 ? -errno : fd;
    } else {
        if (n->is_dir()) {
            return EISDIR;
        }
        if (n->is_symlink()) {
            return ELOOP;
        }
        if (!n->is_regular()) {
            return ENXIO; // the guest opens devices, FIFOs and sockets itself
        }
        const int flags = host_open_flags(in.flags);
        if (options_.read_only && writes(flags)) {
            return EROFS;
        }
        fd = proc_.reopen(n->fd.get(), flags);
    }
    if (fd < 0) {
        return -fd;
    }
    UniqueFd opened(fd);
    if ((static_cast<int>(in.flags) & O_TRUNC) != 0) { // truncation removes privileges too
        if (const int err = remove_privs(n->setid_ok, fd); err != 0) {
            return err;
        }
    }
    fuse_open_out out{};
    out.fh = handles_.add(std::move(opened), dir, n->setid_ok, r.nodeid() == InodeTable::ROOT);
    if (out.fh == 0) {
        return ENFILE;
    }
    out.open_flags = dir ? 0 : open_out_flags(options_.cache);
    reply_.add(out);
    return 0;
}

int FuseServer::op_create(const FuseRequest& r) {
    NamedRequest<fuse_create_in> q;
    if (const int err = take_named(r, &q); err != 0) {
        return err;
    }
    auto& [in, parent, name] = q;
    if (handles_.size() >= options_.max_handles) {
        return ENFILE; // the share's handle ceiling, before anything is made
    }
    const std::string n(name);
    const int flags = host_open_flags(in.flags);
    const bool setid_ok = setid_ok_under(*parent, name);
    const mode_t mode = allowed_mode(S_IFREG | (in.mode & 07777), setid_ok);
    // O_EXCL first, to know whether this request made the file (and may set its owner);
    // an existing symlink fails either way (O_NOFOLLOW, RESOLVE_NO_SYMLINKS).
    int fd = open_beneath(parent->fd.get(), n.c_str(), flags | O_CREAT | O_EXCL, mode);
    const bool created = fd >= 0;
    if (fd == -EEXIST && (in.flags & O_EXCL) == 0) {
        fd = open_existing(*parent, n);
        if (fd >= 0) {
            UniqueFd path(fd);
            fd = proc_.reopen(path.get(), flags);
        }
    }
    if (fd < 0) {
        return -fd;
    }
    UniqueFd file(fd);
    if (!created && (flags & O_TRUNC) != 0) { // truncation removes privileges too
        if (const int err = remove_privs(setid_ok, fd); err != 0) {
            return err;
        }
    }
    // (q.parent, not the structured binding: clang 14 cannot capture those.)
    auto undo = [&q, &n, created](int err) {
        if (created) {
            ::unlinkat(q.parent->fd.get(), n.c_str(), 0);
        }
        return err;
    };
    if (created) {
        if (const int err = adopt(fd, parent->fd.get(), r.header(), mode, false); err != 0) {
            return undo(err);
        }
    }
    const int path_fd = proc_.reopen(fd, O_PATH);
    if (path_fd < 0) {
        return undo(-path_fd);
    }
    fuse_entry_out entry{};
    if (const int err = entry_from_fd(path_fd, setid_ok, &entry); err != 0) {
        return undo(err);
    }
    fuse_open_out open{};
    open.fh = handles_.add(std::move(file), false, setid_ok);
    open.open_flags = open_out_flags(options_.cache);
    reply_.add(entry);
    reply_.add(open);
    return 0;
}

int FuseServer::open_existing(Inode& parent, const std::string& name) {
    // O_PATH opens nothing (a FIFO does not wait for a writer, a device's open is not
    // called); the type is checked on that fd, and the file then reopened through
    // /proc/self/fd, which reaches exactly the inode checked.
    const int fd = open_beneath(parent.fd.get(), name.c_str(), O_PATH);
    if (fd < 0) {
        return fd;
    }
    UniqueFd path(fd);
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        return -errno;
    }
    if (S_ISDIR(st.st_mode)) {
        return -EISDIR; // as open(O_CREAT) of a directory on the host
    }
    if (S_ISLNK(st.st_mode)) {
        return -ELOOP; // never followed
    }
    if (!S_ISREG(st.st_mode)) {
        return -ENXIO; // FIFOs, sockets, devices: the guest opens those itself
    }
    return path.release();
}

int FuseServer::op_read(const FuseRequest& r) {
    size_t at = 0;
    fuse_read_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int fd = handles_.file(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    const DescriptorChain& c = r.chain();
    const uint64_t room =
        c.writable_bytes - std::min<uint64_t>(c.writable_bytes, sizeof(fuse_out_header));
    const uint64_t len = std::min<uint64_t>({in.size, MAX_WRITE, room});
    // Straight from the page cache into the guest's buffers: the iovecs are the chain's
    // writable segments after the reply header.
    c.writable_iov(sizeof(fuse_out_header), len, iov_);
    const ssize_t n = transfer(fd, iov_, in.offset, false);
    if (n < 0) {
        return static_cast<int>(-n);
    }
    reply_.set_direct_data(static_cast<size_t>(n));
    return 0;
}

int FuseServer::op_write(const FuseRequest& r) {
    size_t at = 0;
    fuse_write_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    if (in.size != r.data_size()) {
        return EINVAL;
    }
    const int fd = handles_.file(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    // As the kernel's file_remove_privs before a write (the broker keeps CAP_FSETID, so
    // the host kernel would not do it for the guest).
    if (const int err = remove_privs(handles_.setid_ok(in.fh), fd); err != 0) {
        return err;
    }
    r.chain().readable_iov(r.data_offset(), in.size, iov_);
    const ssize_t n = transfer(fd, iov_, in.offset, true);
    if (n < 0) {
        return static_cast<int>(-n);
    }
    fuse_write_out out{};
    out.size = static_cast<uint32_t>(n);
    reply_.add(out);
    return 0;
}

int FuseServer::op_release(const FuseRequest& r, bool dir) {
    size_t at = 0;
    fuse_release_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    if ((dir ? handles_.dir(in.fh) : handles_.file(in.fh)) < 0) {
        return EBADF;
    }
    handles_.remove(in.fh);
    return 0;
}

int FuseServer::op_fsync(const FuseRequest& r, bool dir) {
    size_t at = 0;
    fuse_fsync_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int fd = dir ? handles_.dir(in.fh) : handles_.file(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    const int rc = (in.fsync_flags & 1) != 0 ? ::fdatasync(fd) : ::fsync(fd);
    return rc < 0 ? errno : 0;
}

int FuseServer::op_flush(const FuseRequest& r) {
    size_t at = 0;
    fuse_flush_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    if (handles_.file(in.fh) < 0) {
        return EBADF;
    }
    // Data reached the host file at WRITE time and no POSIX locks are offered, so a close
    // has nothing to flush here: ENOSYS makes the kernel stop sending FLUSH (it still
    // writes dirty pages back first), one round trip less per close().
    return ENOSYS;
}

int FuseServer::op_fallocate(const FuseRequest& r) {
    size_t at = 0;
    fuse_fallocate_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int fd = handles_.file(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    if (const int err = remove_privs(handles_.setid_ok(in.fh), fd); err != 0) {
        return err;
    }
    if (::fallocate(fd, static_cast<int>(in.mode), static_cast<off_t>(in.offset),
                    static_cast<off_t>(in.length)) < 0) {
        return errno;
    }
    return 0;
}

int FuseServer::op_lseek(const FuseRequest& r) {
    size_t at = 0;
    fuse_lseek_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int fd = handles_.file(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    if (in.whence != SEEK_DATA && in.whence != SEEK_HOLE) {
        return EINVAL; // the kernel sends only these; it answers the others itself
    }
    const off_t off = ::lseek(fd, static_cast<off_t>(in.offset), static_cast<int>(in.whence));
    if (off < 0) {
        return errno;
    }
    fuse_lseek_out out{};
    out.offset = static_cast<uint64_t>(off);
    reply_.add(out);
    return 0;
}

int FuseServer::op_copy_file_range(const FuseRequest& r) {
    size_t at = 0;
    fuse_copy_file_range_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int from = handles_.file(in.fh_in), to = handles_.file(in.fh_out);
    if (from < 0 || to < 0) {
        return EBADF;
    }
    if (in.flags != 0) {
        return EINVAL;
    }
    if (const int err = remove_privs(handles_.setid_ok(in.fh_out), to); err != 0) {
        return err;
    }
    auto off_in = static_cast<off_t>(in.off_in), off_out = static_cast<off_t>(in.off_out);
    const ssize_t n = ::copy_file_range(from, &off_in, to, &off_out,
                                        std::min<uint64_t>(in.len, MAX_COPY_RANGE), 0);
    if (n < 0) {
        return errno;
    }
    fuse_write_out out{};
    out.size = static_cast<uint32_t>(n);
    reply_.add(out);
    return 0;
}

} // namespace runvm::broker::fs
