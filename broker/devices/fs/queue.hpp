// FuseServer: what serves both virtio-fs queues (the device's queue class, ops_*.cpp its
// operations): answers FUSE requests (protocol 7.31+) against one shared host directory.
// Every guest-given name is one component resolved beneath its parent's O_PATH fd; no
// request follows a symlink or leaves the shared directory; every request is answered
// (an errno at worst) except FORGET and BATCH_FORGET, which have no reply.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <sys/uio.h>

#include "broker/devices/fs/config.hpp"
#include "broker/devices/fs/confine.hpp"
#include "broker/devices/fs/handle_table.hpp"
#include "broker/devices/fs/inode_table.hpp"
#include "broker/devices/fs/request.hpp"

namespace runvm::broker::fs {

struct FsStats {
    uint64_t requests = 0;
    uint64_t errors = 0;      // answered with an errno
    uint64_t malformed = 0;   // refused before reaching an operation
    uint64_t unsupported = 0; // ENOSYS
};

class FuseServer {
public:
    // Opens the shared directory and /proc/self/fd (both before any hardening).
    static Result<std::unique_ptr<FuseServer>> open(const FsOptions& options);

    // Serves one request; returns the used length (bytes written to the driver).
    uint32_t handle(const DescriptorChain& chain);
    // Drops every node id and handle the guest holds (the root stays).
    void reset();

    const FsStats& stats() const { return stats_; }
    size_t inode_count() const { return inodes_.size(); }
    size_t handle_count() const { return handles_.size(); }

private:
    FuseServer(const FsOptions& options, ProcSelfFd proc, UniqueFd root, const struct stat& st);

    // Each operation fills reply_ and returns 0, or returns the errno to answer with.
    // NO_REPLY: the request (FORGET) has no answer.
    static constexpr int NO_REPLY = -1;
    int dispatch(const FuseRequest& r);

    int op_init(const FuseRequest& r);
    int op_lookup(const FuseRequest& r);
    int op_forget(const FuseRequest& r);
    int op_batch_forget(const FuseRequest& r);
    int op_getattr(const FuseRequest& r);
    int op_setattr(const FuseRequest& r);
    int op_readlink(const FuseRequest& r);
    int op_symlink(const FuseRequest& r);
    int op_mknod(const FuseRequest& r);
    int op_mkdir(const FuseRequest& r);
    int op_remove(const FuseRequest& r, bool dir);
    int op_rename(const FuseRequest& r, bool v2);
    int op_link(const FuseRequest& r);
    int op_open(const FuseRequest& r, bool dir);
    int op_create(const FuseRequest& r);
    int op_read(const FuseRequest& r);
    int op_write(const FuseRequest& r);
    int op_release(const FuseRequest& r, bool dir);
    int op_fsync(const FuseRequest& r, bool dir);
    int op_flush(const FuseRequest& r);
    int op_statfs(const FuseRequest& r);
    int op_access(const FuseRequest& r);
    int op_fallocate(const FuseRequest& r);
    int op_lseek(const FuseRequest& r);
    int op_copy_file_range(const FuseRequest& r);
    int op_readdir(const FuseRequest& r, bool plus);
    int op_getxattr(const FuseRequest& r, bool list);
    int op_setxattr(const FuseRequest& r);
    int op_removexattr(const FuseRequest& r);
    int op_destroy(const FuseRequest& r);

    // The /proc/self/fd path of the node whose xattrs SET/REMOVEXATTR change (symlinks:
    // EPERM).
    int writable_xattr_path(uint64_t nodeid, std::string* path);
    // The parent inode and a checked entry name: the shape of most namespace requests.
    int parent_and_name(const FuseRequest& r, size_t* at, Inode** parent, std::string_view* name);
    // A fixed-size body, then an entry name under the request's node: the prologue of
    // CREATE, MKNOD, MKDIR and LINK.
    template <typename In>
    struct NamedRequest {
        In in{};
        Inode* parent = nullptr;
        std::string_view name;
    };
    template <typename In>
    int take_named(const FuseRequest& r, NamedRequest<In>* q) {
        size_t at = 0;
        if (!r.take(&at, &q->in)) {
            return EINVAL;
        }
        return parent_and_name(r, &at, &q->parent, &q->name);
    }
    // Looks `name` up beneath `parent` (O_PATH, no symlink following) and fills a
    // fuse_entry_out counting one lookup.
    int lookup_entry(Inode& parent, std::string_view name, fuse_entry_out* out);
    // The same for an fd already open on the new inode (CREATE); `setid_ok` for a new
    // inode (setid_ok_under). ENFILE past the inode ceiling.
    int entry_from_fd(int fd, bool setid_ok, fuse_entry_out* out);
    // Whether set-ID bits and chown are kept for the entry `name` of a directory whose own
    // setting is `parent_ok`: the root decides by name (FsOptions::setid_entries), anything
    // deeper inherits its parent's.
    bool setid_ok_under(bool parent_ok, bool parent_is_root, std::string_view name) const;
    bool setid_ok_under(const Inode& parent, std::string_view name) {
        return setid_ok_under(parent.setid_ok, &parent == inodes_.get(InodeTable::ROOT), name);
    }
    // Unless `setid_ok`: drops S_ISUID, and S_ISGID with group execute (the kernel's
    // should_remove_suid), from the regular file open as `fd` after a write, truncation or
    // fallocate. 0 or an errno.
    static int remove_privs(bool setid_ok, int fd);
    // After MKNOD/MKDIR/SYMLINK created `name`: gives the node the requester's owner (when
    // the broker runs as root) and the exact mode asked for (the broker's umask must not
    // apply twice), then replies its entry. On failure the node is removed again.
    int finish_new_node(Inode& parent, std::string_view name, const fuse_in_header& in,
                        mode_t mode);
    // Owner and mode of a new node held by `fd` (O_PATH or open); `parent_fd` decides the
    // group when the parent directory is set-group-ID.
    int adopt(int fd, int parent_fd, const fuse_in_header& in, mode_t mode, bool is_symlink);
    // CREATE of a name that exists: an O_PATH fd on it when it is a regular file, else
    // -EISDIR, -ELOOP (symlink) or -ENXIO, without ever opening (and waiting on) it.
    int open_existing(Inode& parent, const std::string& name);
    int stat_inode(const Inode& n, struct stat* st) const;
    fuse_attr_out attr_out(const struct stat& st) const;
    void fill_entry(uint64_t nodeid, const struct stat& st, fuse_entry_out* out) const;

    FsOptions options_;
    ProcSelfFd proc_;
    InodeTable inodes_;
    HandleTable handles_;
    FsStats stats_;
    FuseRequest request_;
    FuseReply reply_;
    mode_t umask_;         // the broker's, undone on nodes the guest creates
    bool chown_new_nodes_; // root or CAP_CHOWN: new nodes belong to the requester
    uint64_t entry_timeout_s_;
    std::vector<iovec> iov_;       // READ/WRITE segments, reused
    std::vector<uint8_t> dirents_; // getdents64 buffer, reused
};

// The mode bits the guest may set on a node: set-ID bits only where they are kept (a
// set-group-ID directory hands its group down and is kept either way).
inline mode_t allowed_mode(mode_t mode, bool setid_ok) {
    if (setid_ok) {
        return mode;
    }
    return S_ISDIR(mode) ? (mode & ~static_cast<mode_t>(S_ISUID))
                         : (mode & ~static_cast<mode_t>(S_ISUID | S_ISGID));
}

} // namespace runvm::broker::fs
