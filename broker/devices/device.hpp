// Device: what every virtio device in the broker implements, and DeviceContext: what the
// transport (the vhost-user session, or a test driver) offers it. A device never sees
// vhost-user messages, only queues.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/runtime/event_loop.hpp"
#include "broker/virtio/virtqueue.hpp"

namespace runvm::broker {

class DeviceContext {
public:
    virtual ~DeviceContext() = default;
    // The queue while the frontend has it started and enabled, else nullptr.
    virtual Virtqueue* queue(uint16_t index) = 0;
    // Interrupts the driver about `index` when the queue's suppression rules allow it.
    virtual void notify(uint16_t index) = 0;
    virtual uint64_t acked_features() const = 0;
};

class Device {
public:
    virtual ~Device() = default;

    virtual const char* name() const = 0;
    // Device and ring feature bits offered to the driver (no transport-private bits).
    virtual uint64_t features() const = 0;
    // The device's configuration space as the driver reads it.
    virtual std::vector<uint8_t> config() const = 0;
    // Queues the transport hands to the broker (vsock's event queue stays in the frontend).
    virtual uint16_t queue_count() const = 0;
    virtual uint16_t max_queue_size() const { return 1024; }

    // Once, on the device thread, before any frontend: the context and the loop the device
    // may add its own fds to (vsock's host sockets).
    virtual Result<void> attach(DeviceContext* context, EventLoop* loop) = 0;
    // The driver made buffers available on `queue` (or the queue was just started).
    virtual void on_kick(uint16_t queue) = 0;
    // The frontend went away or stopped the device: drop all per-guest state.
    virtual void reset() = 0;
};

// Pops every available chain of `queue`, hands it to `handle` (which returns the used
// length), re-arms kicks and notifies once. Returns false when the queue is broken.
template <typename Handle>
bool drain_queue(DeviceContext& ctx, uint16_t index, Handle&& handle);

} // namespace runvm::broker

#include "broker/devices/drain_queue.inl"
