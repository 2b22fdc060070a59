// HandleTable: the open files and directories the guest holds (FUSE fh values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "base/unique_fd.hpp"

namespace runvm::broker::fs {

class HandleTable {
public:
    explicit HandleTable(size_t limit) : limit_(limit) {}
    // The new fh, or 0 (no handle, `fd` closed) when `limit` handles are open already: the
    // guest gets ENFILE.
    // `setid_ok`: the inode's (Inode::setid_ok); `root`: opened on the share's root.
    uint64_t add(UniqueFd fd, bool is_dir, bool setid_ok = false, bool root = false);
    // The fd of handle `fh` when it exists and is of the asked kind, else -1.
    int file(uint64_t fh) const { return find(fh, false); }
    int dir(uint64_t fh) const { return find(fh, true); }
    // Set-ID bits kept on the inode behind `fh`; whether it is the share's root directory.
    bool setid_ok(uint64_t fh) const;
    bool is_root(uint64_t fh) const;
    bool remove(uint64_t fh) { return handles_.erase(fh) != 0; }
    void clear() { handles_.clear(); }
    size_t size() const { return handles_.size(); }

private:
    struct Handle {
        UniqueFd fd;
        bool is_dir;
        bool setid_ok;
        bool root;
    };
    int find(uint64_t fh, bool is_dir) const;
    std::unordered_map<uint64_t, Handle> handles_;
    uint64_t next_ = 1;
    size_t limit_;
};

} // namespace runvm::broker::fs
