// InodeTable: the FUSE node ids the guest holds, each an O_PATH fd on the host inode
// (never a path), counted by lookups until FORGET; one node id per (st_dev, st_ino).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>

#include <sys/stat.h>

#include "base/unique_fd.hpp"

namespace runvm::broker::fs {

struct Inode {
    UniqueFd fd;     // O_PATH | O_NOFOLLOW: symlinks are held, never followed
    mode_t type = 0; // st_mode & S_IFMT, fixed for the life of the inode
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t nlookup = 0;
    bool setid_ok = false; // set-ID bits and chown from the guest kept (FsOptions::allow_setid)

    bool is_dir() const { return S_ISDIR(type); }
    bool is_symlink() const { return S_ISLNK(type); }
    bool is_regular() const { return S_ISREG(type); }
};

class InodeTable {
public:
    static constexpr uint64_t ROOT = 1; // FUSE_ROOT_ID

    // The root is never forgotten; at most `limit` inodes (the root included) are held.
    InodeTable(UniqueFd root, const struct stat& st, size_t limit);

    // nullptr for an unknown (or forgotten) node id.
    Inode* get(uint64_t nodeid);
    // Counts one lookup of the inode `fd` (an O_PATH fd with stat `st`) and returns its
    // node id; `fd` is dropped when the inode is known already. A new inode takes
    // `setid_ok`. 0 (no node id) when a new inode would pass the limit: the guest gets
    // ENFILE.
    uint64_t lookup(UniqueFd fd, const struct stat& st, bool setid_ok);
    // Drops `count` lookups; the inode is closed when none remain.
    void forget(uint64_t nodeid, uint64_t count);
    // Forgets everything but the root (FUSE DESTROY, device reset).
    void clear();
    size_t size() const { return by_id_.size(); }

private:
    std::unordered_map<uint64_t, Inode> by_id_;
    std::map<std::pair<dev_t, ino_t>, uint64_t> by_host_;
    uint64_t next_id_ = ROOT + 1;
    size_t limit_;
};

} // namespace runvm::broker::fs
