// drain_queue: the one loop every device uses to serve a queue (included by device.hpp).
#pragma once

#include <spdlog/spdlog.h>

namespace runvm::broker {

template <typename Handle>
bool drain_queue(DeviceContext& ctx, uint16_t index, Handle&& handle) {
    Virtqueue* q = ctx.queue(index);
    if (q == nullptr) {
        return true;
    }
    // One chain for the whole batch: its segment vectors are reused, not reallocated.
    DescriptorChain chain;
    bool added = false;
    do {
        for (;;) {
            auto next = q->pop(chain);
            if (!next) {
                spdlog::error("queue {}: {}", index, next.error().str());
                if (added) {
                    ctx.notify(index);
                }
                return false;
            }
            if (!*next) {
                break;
            }
            q->add_used(chain.head, handle(static_cast<const DescriptorChain&>(chain)));
            added = true;
            // With EVENT_IDX the driver's used_event decides, so asking after each buffer
            // costs no extra interrupts and lets the driver refill while this loop goes on
            // (a driver that asks for one every 3/4 ring keeps the device busy).
            if (q->event_idx()) {
                ctx.notify(index);
            }
        }
    } while (q->enable_kicks());
    if (added || q->stats().malformed_chains > 0) {
        ctx.notify(index);
    }
    return true;
}

} // namespace runvm::broker
