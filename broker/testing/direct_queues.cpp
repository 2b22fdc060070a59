// DirectQueues: a second mapping of the test RAM plays the device's view of guest memory.
#include "broker/testing/direct_queues.hpp"

#include <sys/mman.h>

namespace runvm::broker::testing {

Result<std::unique_ptr<DirectQueues>> DirectQueues::create(uint16_t count, uint16_t size,
                                                           uint64_t ram_bytes, bool event_idx) {
    std::unique_ptr<DirectQueues> d(new DirectQueues());
    RUNVM_ASSIGN_OR_RETURN(TestGuestMemory ram, TestGuestMemory::create(ram_bytes));
    d->ram_ = std::make_unique<TestGuestMemory>(std::move(ram));
    RUNVM_ASSIGN_OR_RETURN(Mapping view,
                           Mapping::map(d->ram_->size(), PROT_READ | PROT_WRITE, MAP_SHARED,
                                        d->ram_->fd(), 0, "device view of test RAM"));
    RUNVM_TRY(d->memory_.add_region(d->ram_->base(), d->ram_->size(),
                                    d->ram_->user_addr(d->ram_->base()), std::move(view), 0));
    for (uint16_t i = 0; i < count; ++i) {
        auto drv = std::make_unique<VirtqueueDriver>(*d->ram_, size);
        RingLayout l;
        l.size = size;
        l.desc = d->memory_.translate(drv->desc_gpa(), virtio::desc_table_bytes(size));
        l.avail = d->memory_.translate(drv->avail_gpa(), virtio::avail_ring_bytes(size));
        l.used = d->memory_.translate(drv->used_gpa(), virtio::used_ring_bytes(size));
        l.event_idx = event_idx;
        l.indirect = true;
        RUNVM_ASSIGN_OR_RETURN(Virtqueue q, Virtqueue::create(&d->memory_, l));
        d->drivers_.push_back(std::move(drv));
        d->queues_.emplace_back(std::move(q));
    }
    return d;
}

Virtqueue* DirectQueues::queue(uint16_t index) {
    if (index >= queues_.size() || !queues_[index] || queues_[index]->broken()) {
        return nullptr;
    }
    return &*queues_[index];
}

void DirectQueues::notify(uint16_t index) {
    if (index < queues_.size() && queues_[index] && queues_[index]->should_notify()) {
        ++notifications_;
    }
}

} // namespace runvm::broker::testing
