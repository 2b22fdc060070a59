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
    // Set-user-ID/-group-ID bits and ownership changes from the guest (issue #21 item 4).
    // Off: set-ID bits are stripped on CREATE, MKDIR, MKNOD, SETATTR mode, and on writes
    // and truncation (as the kernel's file_remove_privs does), and a chown that changes the
    // owner or group answers EPERM. On: runc's behaviour (the guest is root on its share).
    bool allow_setid = false;
    // With allow_setid off: the top-level entries of the share (names directly under
    // shared_dir) where runc's behaviour still holds ("allow_setid=rootfs").
    std::vector<std::string> setid_entries;
    // Ceilings on what the guest may hold open: beyond them it gets ENFILE.
    uint64_t max_inodes = 65536;
    uint64_t max_handles = 16384;
};

inline constexpr uint32_t TAG_BYTES = 36;
inline constexpr uint32_t CONFIG_BYTES = 40; // tag + num_request_queues
inline constexpr uint16_t HIPRIO_QUEUE = 0;
inline constexpr uint16_t REQUEST_QUEUES = 1;

// The keys of "--fs <sock>,dir=<shared dir>,tag=<tag>[,cache=none|auto|always][,ro]
// [,allow_setid=on|off|<entry>[:<entry>...]][,max_inodes=<n>][,max_handles=<n>]".
inline constexpr std::string_view SPEC_KEYS[] = {"dir",         "tag",        "cache",      "ro",
                                                 "allow_setid", "max_inodes", "max_handles"};
inline constexpr uint64_t MAX_INODES_LIMIT = 1 << 24;
inline constexpr uint64_t MAX_HANDLES_LIMIT = 1 << 22;
Result<FsOptions> parse_options(const DeviceSpec& spec);

Result<CacheMode> parse_cache_mode(const std::string& text);
// "on", "off" or a ":"-separated list of top-level entries into allow_setid/setid_entries.
Result<void> parse_allow_setid(const std::string& text, FsOptions* o);
const char* cache_mode_name(CacheMode mode);

uint64_t fs_features();
std::vector<uint8_t> fs_config_space(const FsOptions& options);

} // namespace runvm::broker::fs
