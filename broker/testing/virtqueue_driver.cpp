// VirtqueueDriver: descriptor allocation and ring updates with the driver's barriers.
#include "broker/testing/virtqueue_driver.hpp"

#include <atomic>
#include <cstring>

namespace runvm::broker::testing {

namespace {

std::atomic_ref<uint16_t> word(uint8_t* p) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p));
}

} // namespace

VirtqueueDriver::VirtqueueDriver(TestGuestMemory& memory, uint16_t size)
    : memory_(memory), size_(size), chain_len_(size, 0), indirect_table_(size, 0) {
    desc_gpa_ = memory.alloc(virtio::desc_table_bytes(size), 16);
    avail_gpa_ = memory.alloc(virtio::avail_ring_bytes(size), 2);
    used_gpa_ = memory.alloc(virtio::used_ring_bytes(size), 4);
    std::memset(memory.host(desc_gpa_), 0, virtio::desc_table_bytes(size));
    std::memset(memory.host(avail_gpa_), 0, virtio::avail_ring_bytes(size));
    std::memset(memory.host(used_gpa_), 0, virtio::used_ring_bytes(size));
    for (uint16_t i = size; i > 0; --i) {
        free_.push_back(static_cast<uint16_t>(i - 1));
    }
}

virtio::Descriptor& VirtqueueDriver::desc(uint16_t index) {
    return reinterpret_cast<virtio::Descriptor*>(memory_.host(desc_gpa_))[index];
}

std::optional<uint16_t> VirtqueueDriver::add(const std::vector<DriverBuffer>& buffers,
                                             bool indirect) {
    return add(buffers.data(), buffers.size(), indirect);
}

std::optional<uint16_t> VirtqueueDriver::add(const DriverBuffer* buffers, size_t count,
                                             bool indirect) {
    const size_t needed = indirect ? 1 : count;
    if (count == 0 || free_.size() < needed) {
        return std::nullopt;
    }
    std::vector<uint16_t>& ids = ids_;
    ids.clear();
    for (size_t i = 0; i < needed; ++i) {
        ids.push_back(free_.back());
        free_.pop_back();
    }
    const uint16_t head = ids[0];
    if (indirect) {
        const uint64_t table = memory_.alloc(16ULL * count, 16);
        auto* entries = reinterpret_cast<virtio::Descriptor*>(memory_.host(table));
        for (size_t i = 0; i < count; ++i) {
            const bool last = i + 1 == count;
            entries[i] = virtio::Descriptor{
                buffers[i].gpa, buffers[i].len,
                static_cast<uint16_t>((buffers[i].writable ? virtio::DESC_F_WRITE : 0) |
                                      (last ? 0 : virtio::DESC_F_NEXT)),
                static_cast<uint16_t>(last ? 0 : i + 1)};
        }
        desc(head) = virtio::Descriptor{table, static_cast<uint32_t>(16 * count),
                                        virtio::DESC_F_INDIRECT, 0};
        indirect_table_[head] = table;
    } else {
        for (size_t i = 0; i < count; ++i) {
            const bool last = i + 1 == count;
            desc(ids[i]) = virtio::Descriptor{
                buffers[i].gpa, buffers[i].len,
                static_cast<uint16_t>((buffers[i].writable ? virtio::DESC_F_WRITE : 0) |
                                      (last ? 0 : virtio::DESC_F_NEXT)),
                last ? uint16_t{0} : ids[i + 1]};
        }
    }
    chain_len_[head] = static_cast<uint16_t>(needed);
    set_avail_entry(avail_idx_, head);
    ++avail_idx_;
    return head;
}

void VirtqueueDriver::set_avail_entry(uint16_t slot, uint16_t head) {
    uint8_t* ring = memory_.host(avail_gpa_) + 4;
    std::memcpy(ring + 2U * (slot % size_), &head, 2);
}

bool VirtqueueDriver::publish() {
    word(memory_.host(avail_gpa_) + 2).store(avail_idx_, std::memory_order_release);
    // Pairs with the device's fence between writing avail_event and re-reading the index.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t old = published_;
    published_ = avail_idx_;
    // A device without EVENT_IDX never writes avail_event; kicking then costs only a wake-up.
    return virtio::need_event(avail_event(), avail_idx_, old) || avail_event() == 0;
}

void VirtqueueDriver::set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    word(memory_.host(avail_gpa_) + 2).store(idx, std::memory_order_release);
}

uint16_t VirtqueueDriver::used_idx() const {
    return word(memory_.host(used_gpa_) + 2).load(std::memory_order_acquire);
}

std::optional<virtio::UsedElement> VirtqueueDriver::take_used() {
    if (used_idx() == last_used_) {
        return std::nullopt;
    }
    virtio::UsedElement e;
    std::memcpy(&e, memory_.host(used_gpa_) + 4 + 8U * (last_used_ % size_), sizeof(e));
    ++last_used_;
    if (e.id < size_ && chain_len_[e.id] > 0) {
        // Walks the chain as placed (the device must not have changed it).
        uint16_t id = static_cast<uint16_t>(e.id);
        for (uint16_t n = chain_len_[e.id]; n > 0; --n) {
            free_.push_back(id);
            id = desc(id).next;
        }
        chain_len_[e.id] = 0;
    }
    return e;
}

void VirtqueueDriver::set_used_event(uint16_t idx) {
    uint8_t* p = memory_.host(avail_gpa_) + 4 + 2U * size_;
    word(p).store(idx, std::memory_order_release);
    // The store must be visible before the driver re-reads the used index (virtio_mb in
    // Linux's virtqueue_enable_cb): a load passing it would miss a buffer the device used
    // while it still saw the old used_event, and the interrupt would never come.
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

uint16_t VirtqueueDriver::avail_event() const {
    return word(memory_.host(used_gpa_) + 4 + 8U * size_).load(std::memory_order_acquire);
}

void VirtqueueDriver::set_no_interrupt(bool on) {
    word(memory_.host(avail_gpa_))
        .store(on ? virtio::AVAIL_F_NO_INTERRUPT : 0, std::memory_order_release);
}

} // namespace runvm::broker::testing
