// Builds the container's ext4 root filesystem image from the bundle's rootfs (mke2fs -d).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace runvm::shim {

struct RootfsImageOptions {
    // Free space on top of the content: max(headroom_mib, content * headroom_percent / 100).
    uint64_t headroom_mib = 64;
    uint64_t headroom_percent = 25;
    std::string mke2fs = "mke2fs";
};

// Bytes the files under `dir` occupy (blocks, not apparent sizes) plus an inode's worth per
// entry; hard links counted once.
Result<uint64_t> content_bytes(const std::string& dir);

// Image size in bytes for `content`, a multiple of 1 MiB.
uint64_t image_size_for(uint64_t content, const RootfsImageOptions& options);

// Creates `image` (sparse) holding a copy of `rootfs_dir`, owned by root inside the image
// when the caller is not root. Removes a partial image on failure.
Result<void> build_rootfs_image(const std::string& rootfs_dir, const std::string& image,
                                const RootfsImageOptions& options = {});

} // namespace runvm::shim
