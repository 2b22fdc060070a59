// virtio-fs (virtio 1.2 section 5.11): options, feature bits and the configuration space
// (tag[36] + le32 num_request_queues); queue 0 is the high-priority queue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::fs {

// How long the guest may cache what the broker tells it (FUSE entry/attr timeouts and
// the FOPEN_* flags of each open).
enum class CacheMode {
    none,   // no entry/attr caching, FOPEN_DIRECT_IO: every read and write reaches the host
    auto_,  // 1 s timeouts, page cache dropped when mtime/size change (AUTO_INVAL_DATA)
    always, // 1 day timeouts, FOPEN_KEEP_CACHE: only the guest changes the share
};

struct FsOptions {
    std::string shared_dir; // the directory the guest sees as the mount's root
    std::string tag;        // the mount tag (mount -t virtiofs <tag> /mnt)
    CacheMode cache = CacheMode::auto_;
    bool read_only = false; // every write-type request answers EROFS
};

inline constexpr uint32_t TAG_BYTES = 36;
inline constexpr uint32_t CONFIG_BYTES = 40; // tag + num_request_queues
inline constexpr uint16_t HIPRIO_QUEUE = 0;
inline constexpr uint16_t REQUEST_QUEUES = 1;

// The keys of "--fs <sock>,dir=<shared dir>,tag=<tag>[,cache=none|auto|always][,ro]".
inline constexpr std::string_view SPEC_KEYS[] = {"dir", "tag", "cache", "ro"};
Result<FsOptions> parse_options(const DeviceSpec& spec);

Result<CacheMode> parse_cache_mode(const std::string& text);
const char* cache_mode_name(CacheMode mode);

uint64_t fs_features();
std::vector<uint8_t> fs_config_space(const FsOptions& options);

} // namespace runvm::broker::fs
