// vhost_user::Device: a virtio device whose queues live in the broker. It is the
// virtio-mmio transport's backend: config reads become GET_CONFIG, DRIVER_OK programs the
// rings, kicks are eventfds (ioeventfd in KVM) and interrupts are the call eventfd (irqfd).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_fd.hpp"
#include "vmm/memory/guest_memory.hpp"
#include "vmm/vhost_user/frontend.hpp"
#include "vmm/virtio_mmio/backend.hpp"

namespace runvm::vmm::vhost_user {

struct DeviceType {
    const char* name;
    uint32_t virtio_id;
    uint16_t transport_queues; // what the guest sees
    uint16_t backend_queues;   // what the broker serves (vsock's event queue stays here)
    uint32_t config_size;
};

Result<DeviceType> device_type(const std::string& name);

class Device : public virtio_mmio::Backend {
public:
    // Connects and negotiates (SET_OWNER, features, protocol features). kick_fds get one
    // eventfd per backend queue, call_fd one for the device.
    static Result<std::unique_ptr<Device>> connect(const std::string& type,
                                                   const std::string& socket,
                                                   const GuestMemory& mem, int timeout_ms);

    int kick_fd(uint16_t queue) const { return kicks_[queue].get(); }
    uint16_t backend_queues() const { return type_.backend_queues; }
    int call_fd() const { return call_.get(); }

    uint32_t device_id() const override { return type_.virtio_id; }
    uint64_t device_features() const override;
    uint16_t num_queues() const override { return type_.transport_queues; }
    uint16_t queue_max_size() const override { return 256; }
    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t offset, std::span<const uint8_t> data) override;
    Result<void> activate(uint64_t features,
                          const std::vector<virtio_mmio::QueueConfig>& queues) override;
    void reset() override;
    void notify(uint16_t queue) override;
    bool interrupts_bypass_transport() const override { return true; }

    // Snapshots (docs/vmm.md, "Snapshots"). Stops every ring activation started
    // (GET_VRING_BASE) and returns, per transport queue, the backend's next available index
    // (0 for a queue it does not serve); nothing when the device is not active.
    Result<std::vector<uint16_t>> stop_rings();
    // The same rings again on the same backend, at `next_avail` (a VM that runs on).
    Result<void> resume_rings(const std::vector<uint16_t>& next_avail);
    // A restored VM: the rings of an activated transport, taken up at `next_avail` by this
    // (new) backend, without the driver probing the device again.
    Result<void> activate_at(uint64_t features, const std::vector<virtio_mmio::QueueConfig>& queues,
                             const std::vector<uint16_t>& next_avail);
    // After a restore: one used-buffer interrupt when a started ring's used index is not 0
    // (device.cpp says why that is the test). Returns whether it fired.
    Result<bool> interrupt_if_used();

private:
    Device(DeviceType type, Frontend frontend, const GuestMemory& mem)
        : type_(type), frontend_(std::move(frontend)), mem_(mem) {}
    Result<void> negotiate();
    Result<void> program_queue(uint16_t index, const virtio_mmio::QueueConfig& q,
                               uint16_t next_avail);
    Result<void> program_queues(const std::vector<uint16_t>& next_avail);

    DeviceType type_;
    Frontend frontend_;
    const GuestMemory& mem_;
    uint64_t backend_features_ = 0;
    uint64_t protocol_features_ = 0;
    std::vector<EventFd> kicks_;
    EventFd call_;
    bool active_ = false;
    std::vector<virtio_mmio::QueueConfig> queues_; // as activation programmed them
};

} // namespace runvm::vmm::vhost_user
