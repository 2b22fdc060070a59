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
    bool added = false;
    do {
        for (;;) {
            auto next = q->pop();
            if (!next) {
                spdlog::error("queue {}: {}", index, next.error().str());
                if (added) {
                    ctx.notify(index);
                }
                return false;
            }
            if (!next->has_value()) {
                break;
            }
            const DescriptorChain& chain = **next;
            q->add_used(chain.head, handle(chain));
            added = true;
        }
    } while (q->enable_kicks());
    if (added || q->stats().malformed_chains > 0) {
        ctx.notify(index);
    }
    return true;
}

} // namespace runvm::broker
