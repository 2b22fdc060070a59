// DirectQueues: a DeviceContext without vhost-user: rings in TestGuestMemory served
// straight to a device, for fuzzers and tests that drive a device in-process.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "broker/devices/device.hpp"
#include "broker/testing/test_guest_memory.hpp"
#include "broker/testing/virtqueue_driver.hpp"

namespace runvm::broker::testing {

class DirectQueues : public DeviceContext {
public:
    // `count` rings of `size` entries in fresh guest RAM of `ram_bytes`.
    static Result<std::unique_ptr<DirectQueues>> create(uint16_t count, uint16_t size,
                                                        uint64_t ram_bytes, bool event_idx);

    Virtqueue* queue(uint16_t index) override;
    void notify(uint16_t index) override;
    uint64_t acked_features() const override { return 0; }

    VirtqueueDriver& driver(uint16_t index) { return *drivers_.at(index); }
    TestGuestMemory& ram() { return *ram_; }
    const GuestMemory& memory() const { return memory_; }
    uint64_t notifications() const { return notifications_; }

private:
    DirectQueues() = default;
    std::unique_ptr<TestGuestMemory> ram_;
    GuestMemory memory_;
    std::vector<std::unique_ptr<VirtqueueDriver>> drivers_;
    std::vector<std::optional<Virtqueue>> queues_;
    uint64_t notifications_ = 0;
};

} // namespace runvm::broker::testing
