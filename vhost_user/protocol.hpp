// vhost-user wire format (QEMU docs/interop/vhost-user.rst): requests, flags and payloads;
// the one copy both sides use (runvm-broker the backend, runvm-vmm the frontend).
#pragma once

#include <cstdint>

namespace runvm::vhost_user {

enum Request : uint32_t {
    GET_FEATURES = 1,
    SET_FEATURES = 2,
    SET_OWNER = 3,
    RESET_OWNER = 4,
    SET_MEM_TABLE = 5,
    SET_LOG_BASE = 6,
    SET_LOG_FD = 7,
    SET_VRING_NUM = 8,
    SET_VRING_ADDR = 9,
    SET_VRING_BASE = 10,
    GET_VRING_BASE = 11,
    SET_VRING_KICK = 12,
    SET_VRING_CALL = 13,
    SET_VRING_ERR = 14,
    GET_PROTOCOL_FEATURES = 15,
    SET_PROTOCOL_FEATURES = 16,
    GET_QUEUE_NUM = 17,
    SET_VRING_ENABLE = 18,
    GET_CONFIG = 24,
    SET_CONFIG = 25,
};

const char* request_name(uint32_t request);

// Header flags: bits 0-1 the version (1), bit 2 a reply, bit 3 "reply with an ack".
inline constexpr uint32_t FLAG_VERSION_MASK = 0x3;
inline constexpr uint32_t VERSION = 0x1;
inline constexpr uint32_t FLAG_REPLY = 1U << 2;
inline constexpr uint32_t FLAG_NEED_REPLY = 1U << 3;

// The feature bit that says GET/SET_PROTOCOL_FEATURES exist.
inline constexpr uint64_t F_PROTOCOL_FEATURES = 1ULL << 30;

inline constexpr uint64_t PROTOCOL_F_MQ = 1ULL << 0;
inline constexpr uint64_t PROTOCOL_F_REPLY_ACK = 1ULL << 3;
inline constexpr uint64_t PROTOCOL_F_CONFIG = 1ULL << 9;
inline constexpr uint64_t PROTOCOL_FEATURES_OFFERED =
    PROTOCOL_F_MQ | PROTOCOL_F_REPLY_ACK | PROTOCOL_F_CONFIG;

// The payload of any message fits here (the biggest is GET_CONFIG: 12 + 256).
inline constexpr uint32_t MAX_PAYLOAD = 4096;
inline constexpr uint32_t MAX_CONFIG_SIZE = 256;
inline constexpr uint32_t MAX_MEM_REGIONS = 8;
inline constexpr uint32_t MAX_FDS = 8;

// SET_VRING_KICK/CALL/ERR u64: bits 0-7 the ring, bit 8 "no fd follows".
inline constexpr uint64_t VRING_INDEX_MASK = 0xff;
inline constexpr uint64_t VRING_NOFD = 1ULL << 8;

struct Header {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
};
static_assert(sizeof(Header) == 12);

struct VringState {
    uint32_t index;
    uint32_t num;
};

struct VringAddr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_user_addr;
    uint64_t used_user_addr;
    uint64_t avail_user_addr;
    uint64_t log_guest_addr;
};
static_assert(sizeof(VringAddr) == 40);

struct MemoryRegionDesc {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
};
static_assert(sizeof(MemoryRegionDesc) == 32);

struct MemoryHeader {
    uint32_t nregions;
    uint32_t padding;
};

struct ConfigHeader {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
};
static_assert(sizeof(ConfigHeader) == 12);

} // namespace runvm::vhost_user
