// Virtqueue: the device side of one split virtqueue in guest memory: takes descriptor
// chains (direct and indirect) off the available ring, returns them on the used ring, and
// decides when the driver needs an interrupt (VIRTIO_RING_F_EVENT_IDX).
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.hpp"
#include "broker/virtio/descriptor_chain.hpp"
#include "broker/virtio/guest_memory.hpp"

namespace runvm::broker {

// Host pointers of the three ring parts; each must cover the whole part for `size`.
struct RingLayout {
    uint16_t size = 0;
    uint8_t* desc = nullptr;
    uint8_t* avail = nullptr;
    uint8_t* used = nullptr;
    uint16_t next_avail = 0; // VHOST_USER_SET_VRING_BASE
    bool event_idx = false;
    bool indirect = false;
};

struct VirtqueueStats {
    uint64_t chains = 0;
    uint64_t malformed_chains = 0;
};

class Virtqueue {
public:
    // Checks the size (power of two, at most 32768) and the parts' alignment. `memory`
    // translates descriptor addresses and must outlive the queue.
    static Result<Virtqueue> create(const GuestMemory* memory, const RingLayout& layout);

    // The next well-formed chain, or nullopt when the ring is empty. Malformed chains
    // (loops, addresses outside memory, bad indirect tables, too long) are logged, returned
    // to the driver with length 0 and skipped. An error means the ring itself is corrupt
    // (available index too far ahead); the queue then stays broken until set up again.
    Result<std::optional<DescriptorChain>> pop();
    // The same into `chain` (cleared first, its storage reused): true when a chain was
    // taken, false when the ring is empty. The devices' hot paths use this one.
    Result<bool> pop(DescriptorChain& chain);
    // Puts the chain taken by the last pop back, unused (nothing may have been popped or
    // added since): a device that took a buffer and then had nothing to put in it.
    void unpop() { --next_avail_; }

    void add_used(uint16_t head, uint32_t len);

    // Whether the driver wants an interrupt for what was added since the last call.
    bool should_notify();

    // Re-arms kicks after the ring was drained; true when more chains arrived meanwhile.
    bool enable_kicks();

    uint16_t next_avail() const { return next_avail_; }
    uint16_t size() const { return layout_.size; }
    // VIRTIO_RING_F_EVENT_IDX negotiated: the driver says when it wants interrupts, so a
    // device may ask should_notify() after every used buffer instead of once per batch.
    bool event_idx() const { return layout_.event_idx; }
    bool broken() const { return broken_; }
    const VirtqueueStats& stats() const { return stats_; }

private:
    Virtqueue(const GuestMemory* memory, const RingLayout& layout)
        : memory_(memory), layout_(layout), next_avail_(layout.next_avail) {}

    Result<void> walk(uint16_t head, DescriptorChain& chain) const;
    uint16_t avail_idx() const;

    const GuestMemory* memory_ = nullptr;
    RingLayout layout_;
    uint16_t next_avail_ = 0;
    uint16_t used_idx_ = 0;
    uint16_t signalled_used_ = 0;
    bool signalled_valid_ = false;
    bool broken_ = false;
    VirtqueueStats stats_;
};

} // namespace runvm::broker
