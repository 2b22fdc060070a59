// HandleTable: fh allocation and lookup.
#include "broker/devices/fs/handle_table.hpp"

namespace runvm::broker::fs {

uint64_t HandleTable::add(UniqueFd fd, bool is_dir, bool setid_ok, bool root) {
    if (handles_.size() >= limit_) {
        return 0;
    }
    const uint64_t fh = next_++;
    handles_.emplace(fh, Handle{std::move(fd), is_dir, setid_ok, root});
    return fh;
}

bool HandleTable::setid_ok(uint64_t fh) const {
    auto it = handles_.find(fh);
    return it != handles_.end() && it->second.setid_ok;
}

bool HandleTable::is_root(uint64_t fh) const {
    auto it = handles_.find(fh);
    return it != handles_.end() && it->second.root;
}

int HandleTable::find(uint64_t fh, bool is_dir) const {
    auto it = handles_.find(fh);
    if (it == handles_.end() || it->second.is_dir != is_dir) {
        return -1;
    }
    return it->second.fd.get();
}

} // namespace runvm::broker::fs
