// VirtqueueDriver: the driver side of one split virtqueue in TestGuestMemory, as a guest
// kernel would run it: descriptors (direct or indirect), available ring, used ring, and
// the EVENT_IDX words. Raw accessors let tests corrupt the rings on purpose.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "broker/testing/test_guest_memory.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::testing {

struct DriverBuffer {
    uint64_t gpa;
    uint32_t len;
    bool writable;
};

class VirtqueueDriver {
public:
    VirtqueueDriver(TestGuestMemory& memory, uint16_t size);

    // Places a chain and publishes it; returns its head, or nullopt when descriptors ran
    // out. `indirect` puts the buffers in an indirect table (one ring descriptor).
    std::optional<uint16_t> add(const std::vector<DriverBuffer>& buffers, bool indirect = false);
    // The same without building a vector (the benchmark's per-request path).
    std::optional<uint16_t> add(const DriverBuffer* buffers, size_t count, bool indirect = false);
    // Makes every chain added since the last call visible to the device. Returns whether
    // the device wants a kick for them (EVENT_IDX avail_event; always true without it).
    bool publish();

    // The next used element, freeing its descriptors.
    std::optional<virtio::UsedElement> take_used();
    // Whether the device has returned buffers not taken yet.
    bool has_used() const { return used_idx() != last_used_; }

    // Raw ring access for malformed-input tests.
    virtio::Descriptor& desc(uint16_t index);
    void set_avail_entry(uint16_t slot, uint16_t head);
    void set_avail_idx(uint16_t idx);
    uint16_t avail_idx() const { return avail_idx_; }
    uint16_t used_idx() const;
    void set_used_event(uint16_t idx); // EVENT_IDX: interrupt me after this one
    // EVENT_IDX: ask for an interrupt at the next used entry (before sleeping on the call fd).
    void arm_interrupt() { set_used_event(last_used_); }
    // EVENT_IDX: an interrupt only once `count` more buffers are used, as Linux's
    // virtqueue_enable_cb_delayed() asks for 3/4 of those in flight: one wake-up refills
    // many, while the device goes on with the rest.
    void arm_interrupt_after(uint16_t count) {
        set_used_event(static_cast<uint16_t>(last_used_ + (count > 0 ? count - 1 : 0)));
    }
    uint16_t avail_event() const; // EVENT_IDX: the device wants a kick after this
    void set_no_interrupt(bool on);

    uint16_t size() const { return size_; }
    uint64_t desc_gpa() const { return desc_gpa_; }
    uint64_t avail_gpa() const { return avail_gpa_; }
    uint64_t used_gpa() const { return used_gpa_; }
    TestGuestMemory& memory() { return memory_; }

private:
    TestGuestMemory& memory_;
    uint16_t size_;
    uint64_t desc_gpa_, avail_gpa_, used_gpa_;
    std::vector<uint16_t> free_;
    std::vector<uint16_t> ids_;            // scratch for add()
    std::vector<uint16_t> chain_len_;      // descriptors per head, to free them
    std::vector<uint64_t> indirect_table_; // per head: the indirect table gpa or 0
    uint16_t avail_idx_ = 0;
    uint16_t published_ = 0;
    uint16_t last_used_ = 0;
};

} // namespace runvm::broker::testing
