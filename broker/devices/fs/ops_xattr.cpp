// FuseServer: GET/LIST/SET/REMOVEXATTR through /proc/self/fd/<fd> (O_PATH fds refuse the
// f*xattr calls); symlinks are refused, so no call here can be steered through a link.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <linux/limits.h>
#include <sys/xattr.h>

#include "broker/devices/fs/queue.hpp"

namespace runvm::broker::fs {

namespace {

int check_xattr_name(std::string_view name) {
    if (name.empty()) {
        return EINVAL;
    }
    return name.size() > XATTR_NAME_MAX ? ERANGE : 0;
}

} // namespace

int FuseServer::writable_xattr_path(uint64_t nodeid, std::string* path) {
    Inode* n = inodes_.get(nodeid);
    if (n == nullptr) {
        return EBADF;
    }
    if (n->is_symlink()) {
        return EPERM;
    }
    *path = ProcSelfFd::path(n->fd.get());
    return 0;
}

int FuseServer::op_getxattr(const FuseRequest& r, bool list) {
    size_t at = 0;
    fuse_getxattr_in in{};
    std::string_view name;
    if (!r.take(&at, &in) || (!list && !r.take_string(&at, &name))) {
        return EINVAL;
    }
    if (const int err = list ? 0 : check_xattr_name(name); err != 0) {
        return err;
    }
    Inode* n = inodes_.get(r.nodeid());
    if (n == nullptr) {
        return EBADF;
    }
    if (n->is_symlink()) {
        return list ? 0 : ENODATA;
    }
    const std::string path = ProcSelfFd::path(n->fd.get());
    const std::string key(name);
    const uint64_t room = r.chain().writable_bytes -
                          std::min<uint64_t>(r.chain().writable_bytes, sizeof(fuse_out_header));
    const size_t size = static_cast<size_t>(std::min<uint64_t>({in.size, room, XATTR_SIZE_MAX}));
    if (in.size == 0) {
        // The guest asks for the size first.
        const ssize_t len = list ? ::listxattr(path.c_str(), nullptr, 0)
                                 : ::getxattr(path.c_str(), key.c_str(), nullptr, 0);
        if (len < 0) {
            return errno;
        }
        fuse_getxattr_out out{};
        out.size = static_cast<uint32_t>(len);
        reply_.add(out);
        return 0;
    }
    char* buf = reinterpret_cast<char*>(reply_.extend(size));
    const ssize_t len = list ? ::listxattr(path.c_str(), buf, size)
                             : ::getxattr(path.c_str(), key.c_str(), buf, size);
    if (len < 0) {
        return errno;
    }
    reply_.truncate(sizeof(fuse_out_header) + static_cast<size_t>(len));
    return 0;
}

int FuseServer::op_setxattr(const FuseRequest& r) {
    // Without FUSE_SETXATTR_EXT (not offered) only size and flags are sent.
    fuse_setxattr_in in{};
    if (r.args_size() < FUSE_COMPAT_SETXATTR_IN_SIZE) {
        return EINVAL;
    }
    std::memcpy(&in, r.args(), FUSE_COMPAT_SETXATTR_IN_SIZE);
    size_t at = FUSE_COMPAT_SETXATTR_IN_SIZE;
    std::string_view name;
    if (!r.take_string(&at, &name)) {
        return EINVAL;
    }
    if (const int err = check_xattr_name(name); err != 0) {
        return err;
    }
    // The value is exactly the rest of the request.
    if (r.args_size() - at != in.size || in.size > XATTR_SIZE_MAX) {
        return EINVAL;
    }
    std::string path;
    if (const int err = writable_xattr_path(r.nodeid(), &path); err != 0) {
        return err;
    }
    const std::string key(name);
    if (::setxattr(path.c_str(), key.c_str(), r.args() + at, in.size, static_cast<int>(in.flags)) <
        0) {
        return errno;
    }
    return 0;
}

int FuseServer::op_removexattr(const FuseRequest& r) {
    size_t at = 0;
    std::string_view name;
    if (!r.take_string(&at, &name)) {
        return EINVAL;
    }
    if (const int err = check_xattr_name(name); err != 0) {
        return err;
    }
    std::string path;
    if (const int err = writable_xattr_path(r.nodeid(), &path); err != 0) {
        return err;
    }
    const std::string key(name);
    if (::removexattr(path.c_str(), key.c_str()) < 0) {
        return errno;
    }
    return 0;
}

} // namespace runvm::broker::fs
