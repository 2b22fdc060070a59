// vhost-user wire format, frontend side (QEMU docs/interop/vhost-user.rst).
#pragma once

#include <cstdint>

namespace runvm::vmm::vhost_user {

enum Request : uint32_t {
    kGetFeatures = 1,
    kSetFeatures = 2,
    kSetOwner = 3,
    kSetMemTable = 5,
    kSetVringNum = 8,
    kSetVringAddr = 9,
    kSetVringBase = 10,
    kGetVringBase = 11,
    kSetVringKick = 12,
    kSetVringCall = 13,
    kGetProtocolFeatures = 15,
    kSetProtocolFeatures = 16,
    kGetQueueNum = 17,
    kSetVringEnable = 18,
    kGetConfig = 24,
    kSetConfig = 25,
};

inline constexpr uint32_t kVersion = 0x1;
inline constexpr uint32_t kFlagReply = 1u << 2;
inline constexpr uint32_t kFlagNeedReply = 1u << 3;
inline constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;
inline constexpr uint64_t kProtocolMq = 1ull << 0;
inline constexpr uint64_t kProtocolReplyAck = 1ull << 3;
inline constexpr uint64_t kProtocolConfig = 1ull << 9;
inline constexpr uint32_t kMaxMemRegions = 8;
inline constexpr uint32_t kMaxConfigSize = 256;
inline constexpr uint32_t kMaxPayload = 4096;

struct Header {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
};

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

struct MemoryRegion {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
};

struct MemoryTable {
    uint32_t nregions;
    uint32_t padding;
    MemoryRegion regions[kMaxMemRegions];
};

struct ConfigHeader {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
};

static_assert(sizeof(Header) == 12 && sizeof(VringAddr) == 40 && sizeof(MemoryRegion) == 32);

} // namespace runvm::vmm::vhost_user
