// FuseServer: MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME(2): every name one
// component under its parent's O_PATH fd.
#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/queue.hpp"
#include "broker/devices/fs/wire.hpp"

namespace runvm::broker::fs {

int FuseServer::adopt(int fd, int parent_fd, const fuse_in_header& in, mode_t mode,
                      bool is_symlink) {
    struct stat parent {};
    if (::fstat(parent_fd, &parent) < 0) {
        return errno;
    }
    if (S_ISDIR(mode) && (parent.st_mode & S_ISGID) != 0) {
        mode |= S_ISGID; // the kernel handed the bit down: the chmod below must keep it
    }
    if (chown_new_nodes_) {
        // A set-group-ID directory hands its group down (the kernel did so already).
        const gid_t gid = (parent.st_mode & S_ISGID) != 0 ? static_cast<gid_t>(-1) : in.gid;
        if (::fchownat(fd, "", in.uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
            return errno;
        }
    }
    // chown cleared set-ID bits and the broker's umask trimmed the mode: set it exactly.
    if (!is_symlink && ((mode & 07777 & umask_) != 0 || (mode & 06000) != 0)) {
        const std::string via_proc = ProcSelfFd::name(fd);
        if (::fchmodat(proc_.get(), via_proc.c_str(), mode & 07777, 0) < 0) {
            return errno;
        }
    }
    return 0;
}

int FuseServer::finish_new_node(Inode& parent, std::string_view name, const fuse_in_header& in,
                                mode_t mode) {
    const std::string n(name);
    const int fd = open_beneath(parent.fd.get(), n.c_str(), O_PATH);
    int err = fd < 0 ? -fd : adopt(fd, parent.fd.get(), in, mode, S_ISLNK(mode));
    fuse_entry_out out{};
    if (err == 0) {
        err = entry_from_fd(fd, setid_ok_under(parent, name), &out); // takes the fd
    } else if (fd >= 0) {
        UniqueFd drop(fd);
    }
    if (err != 0) {
        ::unlinkat(parent.fd.get(), n.c_str(), S_ISDIR(mode) ? AT_REMOVEDIR : 0);
        return err;
    }
    reply_.add(out);
    return 0;
}

int FuseServer::op_mknod(const FuseRequest& r) {
    NamedRequest<fuse_mknod_in> q;
    if (const int err = take_named(r, &q); err != 0) {
        return err;
    }
    auto& [in, parent, name] = q;
    const std::string n(name);
    const auto mode = static_cast<mode_t>(allowed_mode(in.mode, setid_ok_under(*parent, name)));
    if (::mknodat(parent->fd.get(), n.c_str(), mode, decode_dev(in.rdev)) < 0) {
        return errno;
    }
    return finish_new_node(*parent, name, r.header(), mode);
}

int FuseServer::op_mkdir(const FuseRequest& r) {
    NamedRequest<fuse_mkdir_in> q;
    if (const int err = take_named(r, &q); err != 0) {
        return err;
    }
    auto& [in, parent, name] = q;
    const std::string n(name);
    const mode_t mode = allowed_mode(S_IFDIR | (in.mode & 07777), setid_ok_under(*parent, name));
    if (::mkdirat(parent->fd.get(), n.c_str(), mode & 07777) < 0) {
        return errno;
    }
    return finish_new_node(*parent, name, r.header(), mode);
}

int FuseServer::op_symlink(const FuseRequest& r) {
    size_t at = 0;
    Inode* parent = nullptr;
    std::string_view name, target;
    if (const int err = parent_and_name(r, &at, &parent, &name); err != 0) {
        return err;
    }
    if (!r.take_string(&at, &target) || target.empty()) {
        return EINVAL;
    }
    if (target.size() >= PATH_MAX) {
        return ENAMETOOLONG;
    }
    // The target is stored, never resolved by the broker: it only means something to the
    // guest, which resolves it inside its own view.
    const std::string n(name), t(target);
    if (::symlinkat(t.c_str(), parent->fd.get(), n.c_str()) < 0) {
        return errno;
    }
    return finish_new_node(*parent, name, r.header(), S_IFLNK | 0777);
}

int FuseServer::op_link(const FuseRequest& r) {
    NamedRequest<fuse_link_in> q;
    if (const int err = take_named(r, &q); err != 0) {
        return err;
    }
    auto& [in, parent, name] = q;
    Inode* old = inodes_.get(in.oldnodeid);
    if (old == nullptr) {
        return EBADF;
    }
    if (old->is_dir()) {
        return EPERM;
    }
    const std::string n(name);
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc/self/fd magic link (followed to
    // the held inode, a symlink included, never past it) needs nothing.
    if (::linkat(old->fd.get(), "", parent->fd.get(), n.c_str(), AT_EMPTY_PATH) < 0) {
        const std::string via_proc = ProcSelfFd::name(old->fd.get());
        if (::linkat(proc_.get(), via_proc.c_str(), parent->fd.get(), n.c_str(),
                     AT_SYMLINK_FOLLOW) < 0) {
            return errno;
        }
    }
    fuse_entry_out out{};
    if (const int err = lookup_entry(*parent, name, &out); err != 0) {
        return err;
    }
    reply_.add(out);
    return 0;
}

int FuseServer::op_remove(const FuseRequest& r, bool dir) {
    size_t at = 0;
    Inode* parent = nullptr;
    std::string_view name;
    if (const int err = parent_and_name(r, &at, &parent, &name); err != 0) {
        return err;
    }
    const std::string n(name);
    if (::unlinkat(parent->fd.get(), n.c_str(), dir ? AT_REMOVEDIR : 0) < 0) {
        return errno;
    }
    return 0;
}

int FuseServer::op_rename(const FuseRequest& r, bool v2) {
    size_t at = 0;
    uint64_t newdir = 0;
    uint32_t flags = 0;
    if (v2) {
        fuse_rename2_in in{};
        if (!r.take(&at, &in)) {
            return EINVAL;
        }
        newdir = in.newdir;
        flags = in.flags;
    } else {
        fuse_rename_in in{};
        if (!r.take(&at, &in)) {
            return EINVAL;
        }
        newdir = in.newdir;
    }
    if ((flags & ~static_cast<uint32_t>(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) {
        return EINVAL; // RENAME_WHITEOUT would need CAP_MKNOD, which the broker drops
    }
    Inode* parent = nullptr;
    std::string_view oldname, newname;
    if (const int err = parent_and_name(r, &at, &parent, &oldname); err != 0) {
        return err;
    }
    if (!r.take_string(&at, &newname)) {
        return EINVAL;
    }
    if (const int err = check_name(newname); err != 0) {
        return err;
    }
    Inode* target = inodes_.get(newdir);
    if (target == nullptr) {
        return EBADF;
    }
    if (!target->is_dir()) {
        return ENOTDIR;
    }
    const std::string o(oldname), n(newname);
    if (::renameat2(parent->fd.get(), o.c_str(), target->fd.get(), n.c_str(), flags) < 0) {
        return errno;
    }
    return 0;
}

} // namespace runvm::broker::fs
