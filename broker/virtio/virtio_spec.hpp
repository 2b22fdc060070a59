// Virtio 1.2 constants the broker's transport-independent code uses (split rings, features).
#pragma once

#include <cstdint>

namespace runvm::broker::virtio {

// Feature bits shared by all devices (virtio 1.2 section 6).
inline constexpr uint64_t F_RING_INDIRECT_DESC = 1ULL << 28;
inline constexpr uint64_t F_RING_EVENT_IDX = 1ULL << 29;
inline constexpr uint64_t F_VERSION_1 = 1ULL << 32;
inline constexpr uint64_t F_NOTIFY_ON_EMPTY = 1ULL << 24;

// Split virtqueue descriptor flags (2.7.5).
inline constexpr uint16_t DESC_F_NEXT = 1;
inline constexpr uint16_t DESC_F_WRITE = 2;
inline constexpr uint16_t DESC_F_INDIRECT = 4;

// Ring flags (2.7.6, 2.7.8).
inline constexpr uint16_t AVAIL_F_NO_INTERRUPT = 1;
inline constexpr uint16_t USED_F_NO_NOTIFY = 1;

inline constexpr uint16_t MAX_QUEUE_SIZE = 32768;

// One split-ring descriptor as laid out in guest memory (little-endian, x86 only).
struct Descriptor {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

struct UsedElement {
    uint32_t id;
    uint32_t len;
};
static_assert(sizeof(UsedElement) == 8);

// Ring part sizes in bytes for a queue of `size` entries, event-index words included.
inline constexpr uint64_t desc_table_bytes(uint16_t size) {
    return 16ULL * size;
}
inline constexpr uint64_t avail_ring_bytes(uint16_t size) {
    return 6ULL + 2ULL * size;
}
inline constexpr uint64_t used_ring_bytes(uint16_t size) {
    return 6ULL + 8ULL * size;
}

// 2.7.7.2: with EVENT_IDX, notify when the new index passes the event index.
inline bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
    return static_cast<uint16_t>(new_idx - event_idx - 1) <
           static_cast<uint16_t>(new_idx - old_idx);
}

} // namespace runvm::broker::virtio
