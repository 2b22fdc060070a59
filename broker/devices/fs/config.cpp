// virtio-fs features, configuration space and the cache-mode key.
#include "broker/devices/fs/config.hpp"

#include <algorithm>
#include <cerrno>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::fs {

Result<FsOptions> parse_options(const DeviceSpec& spec) {
    if (!spec.has("dir") || !spec.has("tag")) {
        return Err(Error::with_errno(EINVAL, "fs " + spec.socket + ": dir= and tag= are required"));
    }
    FsOptions o;
    o.shared_dir = spec.get("dir");
    o.tag = spec.get("tag");
    o.read_only = spec.has("ro");
    if (spec.has("cache")) {
        RUNVM_ASSIGN_OR_RETURN(o.cache, parse_cache_mode(spec.get("cache")));
    }
    if (spec.has("allow_setid")) {
        RUNVM_TRY(parse_allow_setid(spec.get("allow_setid"), &o));
    }
    if (spec.has("max_inodes")) {
        RUNVM_ASSIGN_OR_RETURN(o.max_inodes,
                               spec_number(spec, "fs", "max_inodes", 16, MAX_INODES_LIMIT));
    }
    if (spec.has("max_handles")) {
        RUNVM_ASSIGN_OR_RETURN(o.max_handles,
                               spec_number(spec, "fs", "max_handles", 16, MAX_HANDLES_LIMIT));
    }
    return o;
}

Result<void> parse_allow_setid(const std::string& text, FsOptions* o) {
    o->allow_setid = text == "on";
    o->setid_entries.clear();
    if (text == "on" || text == "off") {
        return Ok();
    }
    // A list of top-level entry names, each one path component.
    size_t start = 0;
    for (;;) {
        const size_t colon = text.find(':', start);
        const std::string name = text.substr(start, colon - start);
        if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
            name.size() > 255) {
            return Err(Error::with_errno(EINVAL, "fs allow_setid='" + text +
                                                     "' (on, off or entry[:entry...])"));
        }
        o->setid_entries.push_back(name);
        if (colon == std::string::npos) {
            return Ok();
        }
        start = colon + 1;
    }
}

Result<CacheMode> parse_cache_mode(const std::string& text) {
    if (text == "none") {
        return CacheMode::none;
    }
    if (text == "auto") {
        return CacheMode::auto_;
    }
    if (text == "always") {
        return CacheMode::always;
    }
    return Err(Error::with_errno(EINVAL, "fs cache mode '" + text + "' (none, auto, always)"));
}

const char* cache_mode_name(CacheMode mode) {
    switch (mode) {
    case CacheMode::none:
        return "none";
    case CacheMode::always:
        return "always";
    case CacheMode::auto_:
        break;
    }
    return "auto";
}

uint64_t fs_features() {
    return virtio::F_VERSION_1 | virtio::F_RING_INDIRECT_DESC | virtio::F_RING_EVENT_IDX;
}

std::vector<uint8_t> fs_config_space(const FsOptions& options) {
    std::vector<uint8_t> c(CONFIG_BYTES, 0);
    // The tag is not NUL-terminated when it fills all 36 bytes (virtio 1.2, 5.11.4).
    std::copy_n(options.tag.begin(), std::min<size_t>(options.tag.size(), TAG_BYTES), c.begin());
    put_le<uint32_t>(c, TAG_BYTES, REQUEST_QUEUES);
    return c;
}

} // namespace runvm::broker::fs
