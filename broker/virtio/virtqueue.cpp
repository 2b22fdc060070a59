// Virtqueue: split-ring walking with every guest address and index bounds-checked.
#include "broker/virtio/virtqueue.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker {

namespace {

// An indirect table may hold more entries than the queue (Linux sizes it by the request's
// segment count), but a bound keeps a hostile table from costing unbounded work.
constexpr uint32_t MAX_INDIRECT_ENTRIES = 4096;
// Device buffers are addressed with 32-bit lengths; a longer chain is refused.
constexpr uint64_t MAX_CHAIN_BYTES = 1ULL << 32;

// Ring words are shared with a driver running concurrently: atomics keep each access
// single and ordered. Alignment of the parts was checked in create().
uint16_t load16(const uint8_t* p, std::memory_order order) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(p)))
        .load(order);
}
void store16(uint8_t* p, uint16_t v, std::memory_order order) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, order);
}
void store32(uint8_t* p, uint32_t v) {
    std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p)).store(v, std::memory_order_relaxed);
}

bool aligned(const uint8_t* p, uintptr_t to) {
    return (reinterpret_cast<uintptr_t>(p) & (to - 1)) == 0;
}

bool overlap(const uint8_t* a, uint64_t a_len, const uint8_t* b, uint64_t b_len) {
    const auto a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
    return a0 < b0 + b_len && b0 < a0 + a_len;
}

} // namespace

Result<Virtqueue> Virtqueue::create(const GuestMemory* memory, const RingLayout& layout) {
    const uint16_t size = layout.size;
    if (size == 0 || (size & (size - 1)) != 0) {
        return Err(Error::with_errno(EINVAL, "virtqueue size " + std::to_string(size) +
                                                 ": not a power of two"));
    }
    if (layout.desc == nullptr || layout.avail == nullptr || layout.used == nullptr) {
        return Err(Error::with_errno(EINVAL, "virtqueue: ring part outside guest memory"));
    }
    // 2.7: descriptor table 16-byte, available ring 2-byte, used ring 4-byte aligned.
    if (!aligned(layout.desc, 16) || !aligned(layout.avail, 2) || !aligned(layout.used, 4)) {
        return Err(Error::with_errno(EINVAL, "virtqueue: misaligned ring part"));
    }
    // The device writes the used ring: over the available ring, each used index it writes
    // would move the driver's available index along and keep pop() going forever; over the
    // descriptor table, it would rewrite the chains it walks. A driver never lays them so.
    const uint64_t used_bytes = virtio::used_ring_bytes(size);
    if (overlap(layout.used, used_bytes, layout.avail, virtio::avail_ring_bytes(size)) ||
        overlap(layout.used, used_bytes, layout.desc, virtio::desc_table_bytes(size))) {
        return Err(Error::with_errno(EINVAL, "virtqueue: used ring overlaps the available ring "
                                             "or the descriptor table"));
    }
    Virtqueue q(memory, layout);
    q.used_idx_ = load16(layout.used + 2, std::memory_order_acquire);
    q.signalled_used_ = q.used_idx_;
    q.signalled_valid_ = true;
    return q;
}

uint16_t Virtqueue::avail_idx() const {
    return load16(layout_.avail + 2, std::memory_order_acquire);
}

Result<std::optional<DescriptorChain>> Virtqueue::pop() {
    DescriptorChain chain;
    RUNVM_ASSIGN_OR_RETURN(bool taken, pop(chain));
    return taken ? std::optional<DescriptorChain>(std::move(chain)) : std::nullopt;
}

Result<bool> Virtqueue::pop(DescriptorChain& chain) {
    while (!broken_) {
        const uint16_t pending = static_cast<uint16_t>(avail_idx() - next_avail_);
        if (pending == 0) {
            return false;
        }
        if (pending > layout_.size) {
            broken_ = true;
            return Err(Error::with_errno(
                EINVAL, "virtqueue: available index " + std::to_string(avail_idx()) + " is " +
                            std::to_string(pending) + " entries ahead of a ring of " +
                            std::to_string(layout_.size)));
        }
        const uint8_t* slot = layout_.avail + 4 + 2U * (next_avail_ % layout_.size);
        const uint16_t head = load16(slot, std::memory_order_relaxed);
        ++next_avail_;
        ++stats_.chains;
        if (head >= layout_.size) {
            // No valid id to hand back: the entry is dropped.
            ++stats_.malformed_chains;
            spdlog::warn("virtqueue: head {} out of a ring of {}, dropped", head, layout_.size);
            continue;
        }
        chain.clear();
        chain.head = head;
        auto walked = walk(head, chain);
        if (!walked) {
            ++stats_.malformed_chains;
            spdlog::warn("virtqueue: chain at head {} refused: {}", head, walked.error().str());
            add_used(head, 0);
            continue;
        }
        return true;
    }
    return Err(Error::with_errno(EIO, "virtqueue: broken, needs reset"));
}

Result<void> Virtqueue::walk(uint16_t head, DescriptorChain& chain) const {
    const uint8_t* table = layout_.desc;
    uint32_t table_size = layout_.size;
    uint32_t visited = 0;
    bool in_indirect = false;
    uint32_t index = head;
    uint64_t total = 0;
    for (;;) {
        if (index >= table_size) {
            return Err(Error::with_errno(EINVAL, "descriptor index " + std::to_string(index) +
                                                     " outside a table of " +
                                                     std::to_string(table_size)));
        }
        if (++visited > table_size) {
            return Err(Error::with_errno(ELOOP, "descriptor chain longer than its table (loop)"));
        }
        // One copy of the descriptor, so the driver cannot change it between checks and use.
        virtio::Descriptor d;
        std::memcpy(&d, table + 16ULL * index, sizeof(d));
        if ((d.flags & virtio::DESC_F_INDIRECT) != 0) {
            if (!layout_.indirect || in_indirect || (d.flags & virtio::DESC_F_NEXT) != 0) {
                return Err(Error::with_errno(EINVAL, "indirect descriptor not allowed here"));
            }
            if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > MAX_INDIRECT_ENTRIES) {
                return Err(
                    Error::with_errno(EINVAL, "indirect table length " + std::to_string(d.len)));
            }
            table = memory_->translate(d.addr, d.len);
            if (table == nullptr) {
                return Err(Error::with_errno(EFAULT, "indirect table outside guest memory"));
            }
            table_size = d.len / 16;
            in_indirect = true;
            visited = 0;
            index = 0;
            continue;
        }
        total += d.len;
        if (total > MAX_CHAIN_BYTES) {
            return Err(Error::with_errno(E2BIG, "descriptor chain longer than 4 GiB"));
        }
        const bool writable = (d.flags & virtio::DESC_F_WRITE) != 0;
        if (!writable && !chain.writable.empty()) {
            return Err(Error::with_errno(EINVAL, "readable descriptor after a writable one"));
        }
        if (d.len > 0) {
            uint8_t* host = memory_->translate(d.addr, d.len);
            if (host == nullptr) {
                return Err(Error::with_errno(EFAULT, "descriptor buffer outside guest memory"));
            }
            if (writable) {
                chain.writable.push_back(Segment{host, d.len});
                chain.writable_bytes += d.len;
            } else {
                chain.readable.push_back(Segment{host, d.len});
                chain.readable_bytes += d.len;
            }
        }
        if ((d.flags & virtio::DESC_F_NEXT) == 0) {
            return Ok();
        }
        index = d.next;
    }
}

void Virtqueue::add_used(uint16_t head, uint32_t len) {
    uint8_t* elem = layout_.used + 4 + 8U * (used_idx_ % layout_.size);
    store32(elem, head);
    store32(elem + 4, len);
    ++used_idx_;
    // The element must be visible before the index that publishes it.
    store16(layout_.used + 2, used_idx_, std::memory_order_release);
}

bool Virtqueue::should_notify() {
    // Pairs with the driver's barrier between publishing buffers and reading used_event.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t old = signalled_used_;
    const bool valid = signalled_valid_;
    signalled_used_ = used_idx_;
    signalled_valid_ = true;
    if (layout_.event_idx) {
        const uint16_t used_event =
            load16(layout_.avail + 4 + 2U * layout_.size, std::memory_order_relaxed);
        return !valid || virtio::need_event(used_event, used_idx_, old);
    }
    if (valid && old == used_idx_) {
        return false;
    }
    const uint16_t flags = load16(layout_.avail, std::memory_order_relaxed);
    return (flags & virtio::AVAIL_F_NO_INTERRUPT) == 0;
}

bool Virtqueue::enable_kicks() {
    if (layout_.event_idx) {
        store16(layout_.used + 4 + 8U * layout_.size, next_avail_, std::memory_order_relaxed);
    }
    // The avail_event store must be visible before re-reading the index, or a kick is lost.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return !broken_ && avail_idx() != next_avail_;
}

} // namespace runvm::broker
