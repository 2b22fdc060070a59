// Conversions between host structs and the FUSE wire structs of <linux/fuse.h>.
#pragma once

#include <cstdint>

#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace runvm::broker::fs {

// FUSE carries device numbers in the kernel's new_encode_dev() form.
inline uint32_t encode_dev(dev_t dev) {
    const uint32_t ma = ::major(dev), mi = ::minor(dev);
    return (mi & 0xffU) | (ma << 8) | ((mi & ~0xffU) << 12);
}
inline dev_t decode_dev(uint32_t dev) {
    return ::makedev((dev & 0xfff00U) >> 8, (dev & 0xffU) | ((dev >> 12) & 0xfff00U));
}

inline fuse_attr to_fuse_attr(const struct stat& st) {
    fuse_attr a{};
    a.ino = st.st_ino;
    a.size = static_cast<uint64_t>(st.st_size);
    a.blocks = static_cast<uint64_t>(st.st_blocks);
    a.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
    a.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
    a.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
    a.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
    a.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    a.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
    a.mode = st.st_mode;
    a.nlink = static_cast<uint32_t>(st.st_nlink);
    a.uid = st.st_uid;
    a.gid = st.st_gid;
    a.rdev = encode_dev(st.st_rdev);
    a.blksize = static_cast<uint32_t>(st.st_blksize);
    return a;
}

} // namespace runvm::broker::fs
