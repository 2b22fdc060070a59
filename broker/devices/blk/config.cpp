// virtio-blk features and configuration space.
#include "broker/devices/blk/config.hpp"

#include <cerrno>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::blk {

Result<BlkOptions> parse_options(const DeviceSpec& spec) {
    if (!spec.has("path")) {
        return Err(Error::with_errno(EINVAL, "blk " + spec.socket + ": path= is required"));
    }
    BlkOptions o;
    o.path = spec.get("path");
    o.read_only = spec.has("ro");
    o.discard = !spec.has("nodiscard");
    o.serial = spec.get("serial");
    return o;
}

uint64_t blk_features(const BlkOptions& options) {
    uint64_t f = virtio::F_VERSION_1 | virtio::F_RING_INDIRECT_DESC | virtio::F_RING_EVENT_IDX |
                 F_SEG_MAX | F_BLK_SIZE | F_FLUSH;
    if (options.read_only) {
        f |= F_RO;
    } else if (options.discard) {
        f |= F_DISCARD | F_WRITE_ZEROES;
    }
    return f;
}

std::vector<uint8_t> blk_config_space(uint64_t capacity_sectors, const BlkOptions& options) {
    std::vector<uint8_t> c(60, 0);
    put_le<uint64_t>(c, 0, capacity_sectors);
    put_le<uint32_t>(c, 12, SEG_MAX);
    put_le<uint32_t>(c, 20, 512); // blk_size
    put_le<uint16_t>(c, 34, 1);   // num_queues
    if (!options.read_only && options.discard) {
        put_le<uint32_t>(c, 36, 1U << 22); // max_discard_sectors: 2 GiB per request
        put_le<uint32_t>(c, 40, 1);        // max_discard_seg
        put_le<uint32_t>(c, 44, 8);        // discard_sector_alignment: 4 KiB
        put_le<uint32_t>(c, 48, 1U << 22); // max_write_zeroes_sectors
        put_le<uint32_t>(c, 52, 1);        // max_write_zeroes_seg
        c[56] = 1;                         // write_zeroes_may_unmap
    }
    return c;
}

} // namespace runvm::broker::blk
