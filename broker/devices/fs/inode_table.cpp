// InodeTable: lookup counting and the (dev, ino) -> node id index.
#include "broker/devices/fs/inode_table.hpp"

namespace runvm::broker::fs {

InodeTable::InodeTable(UniqueFd root, const struct stat& st, size_t limit) : limit_(limit) {
    Inode& r = by_id_[ROOT];
    r.fd = std::move(root);
    r.type = st.st_mode & S_IFMT;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.nlookup = 1;
    by_host_[{st.st_dev, st.st_ino}] = ROOT;
}

Inode* InodeTable::get(uint64_t nodeid) {
    auto it = by_id_.find(nodeid);
    return it == by_id_.end() ? nullptr : &it->second;
}

uint64_t InodeTable::lookup(UniqueFd fd, const struct stat& st, bool setid_ok) {
    const auto key = std::make_pair(st.st_dev, st.st_ino);
    if (auto it = by_host_.find(key); it != by_host_.end()) {
        // The held fd pins the inode, so (dev, ino) still names the same file.
        ++by_id_.at(it->second).nlookup;
        return it->second;
    }
    if (by_id_.size() >= limit_) {
        return 0;
    }
    const uint64_t id = next_id_++;
    Inode& n = by_id_[id];
    n.fd = std::move(fd);
    n.type = st.st_mode & S_IFMT;
    n.dev = st.st_dev;
    n.ino = st.st_ino;
    n.nlookup = 1;
    n.setid_ok = setid_ok;
    by_host_[key] = id;
    return id;
}

void InodeTable::forget(uint64_t nodeid, uint64_t count) {
    if (nodeid == ROOT) {
        return;
    }
    auto it = by_id_.find(nodeid);
    if (it == by_id_.end()) {
        return;
    }
    Inode& n = it->second;
    n.nlookup = count >= n.nlookup ? 0 : n.nlookup - count;
    if (n.nlookup == 0) {
        by_host_.erase({n.dev, n.ino});
        by_id_.erase(it);
    }
}

void InodeTable::clear() {
    for (auto it = by_id_.begin(); it != by_id_.end();) {
        if (it->first == ROOT) {
            ++it;
            continue;
        }
        by_host_.erase({it->second.dev, it->second.ino});
        it = by_id_.erase(it);
    }
}

} // namespace runvm::broker::fs
