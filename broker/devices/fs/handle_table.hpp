// HandleTable: the open files and directories the guest holds (FUSE fh values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "base/unique_fd.hpp"

namespace runvm::broker::fs {

class HandleTable {
public:
    uint64_t add(UniqueFd fd, bool is_dir);
    // The fd of handle `fh` when it exists and is of the asked kind, else -1.
    int file(uint64_t fh) const { return find(fh, false); }
    int dir(uint64_t fh) const { return find(fh, true); }
    bool remove(uint64_t fh) { return handles_.erase(fh) != 0; }
    void clear() { handles_.clear(); }
    size_t size() const { return handles_.size(); }

private:
    struct Handle {
        UniqueFd fd;
        bool is_dir;
    };
    int find(uint64_t fh, bool is_dir) const;
    std::unordered_map<uint64_t, Handle> handles_;
    uint64_t next_ = 1;
};

} // namespace runvm::broker::fs
