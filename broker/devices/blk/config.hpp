// virtio-blk (virtio 1.2 section 5.2): options, feature bits, request types and the
// configuration space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::blk {

struct BlkOptions {
    std::string path;
    bool read_only = false;
    bool discard = true; // DISCARD and WRITE_ZEROES (read-write images only)
    std::string serial;  // GET_ID; empty: the image's file name
};

inline constexpr uint64_t F_SEG_MAX = 1ULL << 2;
inline constexpr uint64_t F_RO = 1ULL << 5;
inline constexpr uint64_t F_BLK_SIZE = 1ULL << 6;
inline constexpr uint64_t F_FLUSH = 1ULL << 9;
inline constexpr uint64_t F_DISCARD = 1ULL << 13;
inline constexpr uint64_t F_WRITE_ZEROES = 1ULL << 14;

inline constexpr uint32_t T_IN = 0;
inline constexpr uint32_t T_OUT = 1;
inline constexpr uint32_t T_FLUSH = 4;
inline constexpr uint32_t T_GET_ID = 8;
inline constexpr uint32_t T_DISCARD = 11;
inline constexpr uint32_t T_WRITE_ZEROES = 13;

inline constexpr uint8_t S_OK = 0;
inline constexpr uint8_t S_IOERR = 1;
inline constexpr uint8_t S_UNSUPP = 2;

inline constexpr uint64_t SECTOR_SIZE = 512;
inline constexpr uint32_t ID_BYTES = 20;
inline constexpr uint32_t REQUEST_HEADER_BYTES = 16; // le32 type, le32 reserved, le64 sector
inline constexpr uint32_t DISCARD_SEGMENT_BYTES = 16;
inline constexpr uint32_t SEG_MAX = 254;
inline constexpr uint32_t WRITE_ZEROES_FLAG_UNMAP = 1;

// The keys of "--blk <sock>,path=<raw image>[,ro][,nodiscard][,serial=<id>]".
inline constexpr std::string_view SPEC_KEYS[] = {"path", "ro", "nodiscard", "serial"};
Result<BlkOptions> parse_options(const DeviceSpec& spec);

uint64_t blk_features(const BlkOptions& options);
// The 60-byte struct virtio_blk_config for an image of `capacity_sectors`.
std::vector<uint8_t> blk_config_space(uint64_t capacity_sectors, const BlkOptions& options);

} // namespace runvm::broker::blk
