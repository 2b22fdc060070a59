// virtio_mmio::Backend: the device behind a virtio-mmio transport. In runvm-vmm it is a
// vhost-user device in the broker; tests plug in a fake.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"

namespace runvm::vmm::virtio_mmio {

// A virtqueue as the driver programmed it (guest-physical addresses).
struct QueueConfig {
    uint16_t max_size = 0;
    uint16_t size = 0;
    bool ready = false;
    uint64_t desc = 0;
    uint64_t driver = 0; // the available ring
    uint64_t device = 0; // the used ring
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual uint32_t device_id() const = 0;
    // Feature bits the device offers (VIRTIO_F_VERSION_1 is added by the transport).
    virtual uint64_t device_features() const = 0;
    virtual uint16_t num_queues() const = 0;
    virtual uint16_t queue_max_size() const = 0;
    virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write_config(uint64_t offset, std::span<const uint8_t> data) = 0;
    // DRIVER_OK: the device takes over the ready queues.
    virtual Result<void> activate(uint64_t features, const std::vector<QueueConfig>& queues) = 0;
    // The driver wrote 0 to Status after activation: the device stops its queues.
    virtual void reset() = 0;
    // A trapped QueueNotify write (where no ioeventfd catches it in the kernel).
    virtual void notify(uint16_t queue) = 0;
    // Whether used-buffer interrupts bypass the transport (irqfd straight from the
    // backend), so InterruptStatus must report "used buffer" whenever the line fires.
    virtual bool interrupts_bypass_transport() const = 0;
};

} // namespace runvm::vmm::virtio_mmio
