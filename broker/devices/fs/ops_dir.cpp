// FuseServer: READDIR and READDIRPLUS from getdents64 on the directory handle, each call
// starting at the guest's offset (the d_off of the last entry it got).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "broker/devices/fs/queue.hpp"

namespace runvm::broker::fs {

namespace {

struct LinuxDirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    // d_name follows
};
constexpr size_t DIRENT_NAME_OFFSET = 19;
constexpr size_t MAX_READDIR = 1 << 20;

} // namespace

int FuseServer::op_readdir(const FuseRequest& r, bool plus) {
    size_t at = 0;
    fuse_read_in in{};
    if (!r.take(&at, &in)) {
        return EINVAL;
    }
    const int fd = handles_.dir(in.fh);
    if (fd < 0) {
        return EBADF;
    }
    const DescriptorChain& c = r.chain();
    const uint64_t room =
        c.writable_bytes - std::min<uint64_t>(c.writable_bytes, sizeof(fuse_out_header));
    const size_t limit = static_cast<size_t>(std::min<uint64_t>({in.size, room, MAX_READDIR}));
    if (::lseek(fd, static_cast<off_t>(in.offset), SEEK_SET) < 0) {
        return errno;
    }
    dirents_.resize(std::max<size_t>(limit, 4096));
    size_t used = 0;
    bool full = false;
    while (!full) {
        const ssize_t got = ::getdents64(fd, dirents_.data(), dirents_.size());
        if (got < 0) {
            if (used > 0) {
                break; // what was gathered is still a valid answer
            }
            return errno;
        }
        if (got == 0) {
            break;
        }
        for (size_t pos = 0; pos < static_cast<size_t>(got);) {
            LinuxDirent64 d{};
            std::memcpy(&d, dirents_.data() + pos, DIRENT_NAME_OFFSET);
            const char* name_ptr =
                reinterpret_cast<const char*>(dirents_.data() + pos + DIRENT_NAME_OFFSET);
            const size_t name_len = ::strnlen(name_ptr, d.d_reclen - DIRENT_NAME_OFFSET);
            if (d.d_reclen <= DIRENT_NAME_OFFSET) {
                return EIO; // cannot happen with a sane kernel; never loop on it
            }
            pos += d.d_reclen;
            const size_t dirent_size = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + name_len);
            const size_t need = plus ? sizeof(fuse_entry_out) + dirent_size : dirent_size;
            if (used + need > limit) {
                full = true;
                break;
            }
            fuse_entry_out entry{};
            if (plus) {
                const std::string_view name(name_ptr, name_len);
                // "." and ".." carry no entry (the kernel skips them); a name that vanished
                // since getdents is sent with node id 0, which the kernel ignores too.
                if (name != "." && name != "..") {
                    const std::string n(name);
                    const int child = open_beneath(fd, n.c_str(), O_PATH);
                    // The handle, not the request's node id, says which directory this is.
                    const bool setid_ok =
                        setid_ok_under(handles_.setid_ok(in.fh), handles_.is_root(in.fh), name);
                    if (child >= 0 && entry_from_fd(child, setid_ok, &entry) != 0) {
                        entry = {};
                    }
                }
            }
            uint8_t* out = reply_.extend(need);
            std::memset(out, 0, need);
            if (plus) {
                std::memcpy(out, &entry, sizeof(entry));
                out += sizeof(entry);
            }
            fuse_dirent fd_out{};
            fd_out.ino = d.d_ino;
            fd_out.off = static_cast<uint64_t>(d.d_off);
            fd_out.namelen = static_cast<uint32_t>(name_len);
            fd_out.type = d.d_type;
            std::memcpy(out, &fd_out, FUSE_NAME_OFFSET);
            std::memcpy(out + FUSE_NAME_OFFSET, name_ptr, name_len);
            used += need;
        }
    }
    // An empty answer means end of directory: refuse a buffer too small for one entry.
    return full && used == 0 ? EINVAL : 0;
}

} // namespace runvm::broker::fs
