// CurrentQueues: a DeviceContext that a long-lived device keeps while each fuzz input
// brings fresh rings: it forwards to the DirectQueues set for the input being run, and
// answers "no queue" between inputs.
#pragma once

#include "broker/testing/direct_queues.hpp"

namespace runvm::broker::testing {

class CurrentQueues : public DeviceContext {
public:
    void set(DirectQueues* queues) { current_ = queues; }
    void set_acked_features(uint64_t features) { acked_ = features; }

    Virtqueue* queue(uint16_t i) override { return current_ ? current_->queue(i) : nullptr; }
    void notify(uint16_t i) override {
        if (current_) {
            current_->notify(i);
        }
    }
    uint64_t acked_features() const override { return acked_; }

private:
    DirectQueues* current_ = nullptr;
    uint64_t acked_ = 0;
};

} // namespace runvm::broker::testing
