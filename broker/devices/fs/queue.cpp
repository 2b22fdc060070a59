// FuseServer: setup, request framing and dispatch, INIT/DESTROY, lookups and FORGET.
#include "broker/devices/fs/queue.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/wire.hpp"

namespace runvm::broker::fs {

namespace {

// Jailed with host ids, the broker is the VM's uid with CAP_CHOWN of its user namespace: new
// nodes go to the requester as they do for a root broker.
bool chown_is_effective() {
    cap_t caps = ::cap_get_proc();
    if (caps == nullptr) {
        return false;
    }
    cap_flag_value_t chown = CAP_CLEAR;
    ::cap_get_flag(caps, CAP_CHOWN, CAP_EFFECTIVE, &chown);
    ::cap_free(caps);
    return chown == CAP_SET;
}

// Opcodes that change the share: answered with EROFS on a read-only share.
bool modifies(uint32_t opcode) {
    switch (opcode) {
    case FUSE_SETATTR:
    case FUSE_SYMLINK:
    case FUSE_MKNOD:
    case FUSE_MKDIR:
    case FUSE_UNLINK:
    case FUSE_RMDIR:
    case FUSE_RENAME:
    case FUSE_RENAME2:
    case FUSE_LINK:
    case FUSE_WRITE:
    case FUSE_CREATE:
    case FUSE_FALLOCATE:
    case FUSE_COPY_FILE_RANGE:
    case FUSE_SETXATTR:
    case FUSE_REMOVEXATTR:
        return true;
    default:
        return false;
    }
}

uint64_t timeout_for(CacheMode mode) {
    switch (mode) {
    case CacheMode::none:
        return 0;
    case CacheMode::always:
        return 86400;
    case CacheMode::auto_:
        break;
    }
    return 1;
}

} // namespace

FuseServer::FuseServer(const FsOptions& options, ProcSelfFd proc, UniqueFd root,
                       const struct stat& st)
    : options_(options), proc_(std::move(proc)),
      inodes_(std::move(root), st, static_cast<size_t>(options.max_inodes)),
      handles_(static_cast<size_t>(options.max_handles)), umask_(0),
      chown_new_nodes_(::geteuid() == 0 || chown_is_effective()),
      entry_timeout_s_(timeout_for(options.cache)) {
    // umask() can only be read by setting it; restore at once (setup is single-threaded).
    umask_ = ::umask(022);
    ::umask(umask_);
    inodes_.get(InodeTable::ROOT)->setid_ok = options.allow_setid;
}

Result<std::unique_ptr<FuseServer>> FuseServer::open(const FsOptions& options) {
    UniqueFd root(::open(options.shared_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        return Err(Error::from_errno("open fs shared dir " + options.shared_dir));
    }
    struct stat st {};
    if (::fstat(root.get(), &st) < 0) {
        return Err(Error::from_errno("fstat fs shared dir " + options.shared_dir));
    }
    RUNVM_ASSIGN_OR_RETURN(ProcSelfFd proc, ProcSelfFd::open());
    // Every inode the guest holds is an fd: take the whole hard limit (often 1024 soft).
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &files) < 0) {
            spdlog::warn("fs: setrlimit RLIMIT_NOFILE {}: {}", files.rlim_max,
                         std::strerror(errno));
        }
    }
    return std::unique_ptr<FuseServer>(
        new FuseServer(options, std::move(proc), std::move(root), st));
}

void FuseServer::reset() {
    handles_.clear();
    inodes_.clear();
}

uint32_t FuseServer::handle(const DescriptorChain& chain) {
    ++stats_.requests;
    const int parsed = request_.parse(chain);
    reply_.start(request_.header().unique);
    if (parsed != 0) {
        ++stats_.malformed;
        if (parsed < 0) {
            spdlog::warn("fs: request shorter than fuse_in_header, dropped");
            return 0;
        }
        spdlog::warn("fs: malformed request (opcode {}, len {}, readable {})", request_.opcode(),
                     request_.header().len, chain.readable_bytes);
        return reply_.send(chain, parsed);
    }
    int err;
    if (options_.read_only && modifies(request_.opcode())) {
        err = EROFS;
    } else {
        err = dispatch(request_);
    }
    if (err == NO_REPLY) {
        return 0;
    }
    if (err != 0) {
        ++stats_.errors;
        reply_.start(request_.header().unique);
    }
    return reply_.send(chain, err);
}

int FuseServer::dispatch(const FuseRequest& r) {
    switch (r.opcode()) {
    case FUSE_INIT:
        return op_init(r);
    case FUSE_DESTROY:
        return op_destroy(r);
    case FUSE_LOOKUP:
        return op_lookup(r);
    case FUSE_FORGET:
        return op_forget(r);
    case FUSE_BATCH_FORGET:
        return op_batch_forget(r);
    case FUSE_GETATTR:
        return op_getattr(r);
    case FUSE_SETATTR:
        return op_setattr(r);
    case FUSE_READLINK:
        return op_readlink(r);
    case FUSE_SYMLINK:
        return op_symlink(r);
    case FUSE_MKNOD:
        return op_mknod(r);
    case FUSE_MKDIR:
        return op_mkdir(r);
    case FUSE_UNLINK:
        return op_remove(r, false);
    case FUSE_RMDIR:
        return op_remove(r, true);
    case FUSE_RENAME:
        return op_rename(r, false);
    case FUSE_RENAME2:
        return op_rename(r, true);
    case FUSE_LINK:
        return op_link(r);
    case FUSE_OPEN:
        return op_open(r, false);
    case FUSE_OPENDIR:
        return op_open(r, true);
    case FUSE_CREATE:
        return op_create(r);
    case FUSE_READ:
        return op_read(r);
    case FUSE_WRITE:
        return op_write(r);
    case FUSE_RELEASE:
        return op_release(r, false);
    case FUSE_RELEASEDIR:
        return op_release(r, true);
    case FUSE_FSYNC:
        return op_fsync(r, false);
    case FUSE_FSYNCDIR:
        return op_fsync(r, true);
    case FUSE_FLUSH:
        return op_flush(r);
    case FUSE_STATFS:
        return op_statfs(r);
    case FUSE_ACCESS:
        return op_access(r);
    case FUSE_FALLOCATE:
        return op_fallocate(r);
    case FUSE_LSEEK:
        return op_lseek(r);
    case FUSE_COPY_FILE_RANGE:
        return op_copy_file_range(r);
    case FUSE_READDIR:
        return op_readdir(r, false);
    case FUSE_READDIRPLUS:
        return op_readdir(r, true);
    case FUSE_GETXATTR:
        return op_getxattr(r, false);
    case FUSE_LISTXATTR:
        return op_getxattr(r, true);
    case FUSE_SETXATTR:
        return op_setxattr(r);
    case FUSE_REMOVEXATTR:
        return op_removexattr(r);
    default:
        ++stats_.unsupported;
        return ENOSYS;
    }
}

int FuseServer::op_init(const FuseRequest& r) {
    // fuse_init_in grew over time; major, minor, max_readahead and flags are always there.
    constexpr size_t BASE_INIT_IN = 16;
    if (r.args_size() < BASE_INIT_IN) {
        return EINVAL;
    }
    fuse_init_in in{};
    std::memcpy(&in, r.args(), std::min(r.args_size(), sizeof(in)));
    fuse_init_out out{};
    out.major = FUSE_KERNEL_VERSION;
    out.minor = FUSE_KERNEL_MINOR_VERSION;
    if (in.major > FUSE_KERNEL_VERSION) {
        // A newer major: answer ours alone and the kernel retries with it.
        reply_.add_bytes(&out, 8);
        return 0;
    }
    if (in.major < FUSE_KERNEL_VERSION || in.minor < 31) {
        spdlog::warn("fs: FUSE {}.{} from the guest, 7.31+ needed", in.major, in.minor);
        return EPROTO;
    }
    uint32_t want = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
                    FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES;
    if (options_.cache != CacheMode::none) {
        want |= FUSE_CACHE_SYMLINKS;
    }
    if (options_.cache == CacheMode::auto_) {
        want |= FUSE_AUTO_INVAL_DATA;
    }
    out.flags = in.flags & want;
    out.max_readahead = in.max_readahead;
    out.max_background = 64;
    out.congestion_threshold = 48;
    out.max_write = MAX_WRITE;
    out.time_gran = 1;
    out.max_pages = static_cast<uint16_t>(MAX_WRITE / 4096);
    reply_.add(out);
    return 0;
}

int FuseServer::op_destroy(const FuseRequest&) {
    reset();
    return 0;
}

int FuseServer::stat_inode(const Inode& n, struct stat* st) const {
    if (::fstatat(n.fd.get(), "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
        return errno;
    }
    return 0;
}

fuse_attr_out FuseServer::attr_out(const struct stat& st) const {
    fuse_attr_out out{};
    out.attr_valid = entry_timeout_s_;
    out.attr = to_fuse_attr(st);
    return out;
}

void FuseServer::fill_entry(uint64_t nodeid, const struct stat& st, fuse_entry_out* out) const {
    *out = {};
    out->nodeid = nodeid;
    out->entry_valid = entry_timeout_s_;
    out->attr_valid = entry_timeout_s_;
    out->attr = to_fuse_attr(st);
}

int FuseServer::entry_from_fd(int fd, bool setid_ok, fuse_entry_out* out) {
    UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(owned.get(), &st) < 0) {
        return errno;
    }
    const uint64_t id = inodes_.lookup(std::move(owned), st, setid_ok);
    if (id == 0) {
        return ENFILE; // the share's inode ceiling (FsOptions::max_inodes)
    }
    fill_entry(id, st, out);
    return 0;
}

int FuseServer::lookup_entry(Inode& parent, std::string_view name, fuse_entry_out* out) {
    const std::string n(name);
    const int fd = open_beneath(parent.fd.get(), n.c_str(), O_PATH);
    if (fd < 0) {
        return -fd;
    }
    return entry_from_fd(fd, setid_ok_under(parent, name), out);
}

bool FuseServer::setid_ok_under(bool parent_ok, bool parent_is_root, std::string_view name) const {
    if (options_.allow_setid || parent_ok) {
        return true;
    }
    if (!parent_is_root) {
        return false;
    }
    for (const std::string& entry : options_.setid_entries) {
        if (entry == name) {
            return true;
        }
    }
    return false;
}

int FuseServer::remove_privs(bool setid_ok, int fd) {
    if (setid_ok) {
        return 0;
    }
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        return errno;
    }
    mode_t kill = st.st_mode & S_ISUID;
    if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) {
        kill |= S_ISGID;
    }
    if (kill == 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    return ::fchmod(fd, st.st_mode & 07777 & ~kill) < 0 ? errno : 0;
}

int FuseServer::parent_and_name(const FuseRequest& r, size_t* at, Inode** parent,
                                std::string_view* name) {
    if (!r.take_string(at, name)) {
        return EINVAL;
    }
    if (const int err = check_name(*name); err != 0) {
        return err;
    }
    *parent = inodes_.get(r.nodeid());
    if (*parent == nullptr) {
        return EBADF;
    }
    return (*parent)->is_dir() ? 0 : ENOTDIR;
}

int FuseServer::op_lookup(const FuseRequest& r) {
    size_t at = 0;
    std::string_view name;
    if (!r.take_string(&at, &name)) {
        return EINVAL;
    }
    Inode* parent = inodes_.get(r.nodeid());
    if (parent == nullptr) {
        return EBADF;
    }
    if (!parent->is_dir()) {
        return ENOTDIR;
    }
    fuse_entry_out out{};
    // "." is the directory itself and ".." of the root is the root: the share has no
    // outside. Any other ".." is refused (the guest kernel resolves ".." from its own
    // dentries; only NFS export, which is not offered, would ask).
    if (name == "." || (name == ".." && r.nodeid() == InodeTable::ROOT)) {
        struct stat st {};
        if (const int err = stat_inode(*parent, &st); err != 0) {
            return err;
        }
        fill_entry(inodes_.lookup(UniqueFd(), st, parent->setid_ok), st, &out);
        reply_.add(out);
        return 0;
    }
    if (const int err = check_name(name); err != 0) {
        return err;
    }
    if (const int err = lookup_entry(*parent, name, &out); err != 0) {
        if (err != ENOENT || options_.cache != CacheMode::always) {
            return err;
        }
        // Only the guest changes an always-cached share: let it cache the absence too
        // (node id 0 with a timeout), so PATH and library searches stay in the guest.
        out = {};
        out.entry_valid = entry_timeout_s_;
    }
    reply_.add(out);
    return 0;
}

int FuseServer::op_forget(const FuseRequest& r) {
    size_t at = 0;
    fuse_forget_in in{};
    if (r.take(&at, &in)) {
        inodes_.forget(r.nodeid(), in.nlookup);
    }
    return NO_REPLY;
}

int FuseServer::op_batch_forget(const FuseRequest& r) {
    size_t at = 0;
    fuse_batch_forget_in in{};
    if (!r.take(&at, &in)) {
        return NO_REPLY;
    }
    fuse_forget_one one{};
    for (uint32_t i = 0; i < in.count && r.take(&at, &one); ++i) {
        inodes_.forget(one.nodeid, one.nlookup);
    }
    return NO_REPLY;
}

} // namespace runvm::broker::fs
