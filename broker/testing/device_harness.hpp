// DeviceHarness: one device served by a real DeviceServer on a temporary socket, with a
// connected, negotiated VhostUserTestFrontend and guest RAM: the setup every device test
// and the benchmark share.
#pragma once

#include <memory>
#include <vector>

#include "broker/runtime/device_server.hpp"
#include "broker/testing/temp_dir.hpp"
#include "broker/testing/vhost_user_test_frontend.hpp"

namespace runvm::broker::testing {

class DeviceHarness {
public:
    // Starts `device` (already created, its files possibly under `dir`), connects, negotiates
    // `features` (all offered when ~0) and maps `ram_bytes` of guest RAM.
    static Result<std::unique_ptr<DeviceHarness>> start(TempDir& dir,
                                                        std::unique_ptr<Device> device,
                                                        uint64_t ram_bytes = 64 << 20,
                                                        uint64_t features = ~0ULL);

    // Creates ring `index` of `size` entries and starts it.
    Result<VirtqueueDriver*> start_ring(uint32_t index, uint16_t size = 256);

    DeviceServer& server() { return *server_; }
    VhostUserTestFrontend& frontend() { return *frontend_; }
    TestGuestMemory& memory() { return *memory_; }
    VirtqueueDriver& ring(uint32_t index) { return *rings_.at(index); }

    // Publishes, kicks `index`, and waits up to timeout_ms for `count` used elements.
    Result<std::vector<virtio::UsedElement>> submit_and_wait(uint32_t index, size_t count,
                                                             int timeout_ms = 5000);

private:
    DeviceHarness() = default;
    std::unique_ptr<DeviceServer> server_;
    std::unique_ptr<TestGuestMemory> memory_;
    std::unique_ptr<VhostUserTestFrontend> frontend_;
    std::vector<std::unique_ptr<VirtqueueDriver>> rings_;
};

// A second device on the same guest RAM taking ring `index` over at `base`, as a restored
// VM's new broker does (the snapshot hand-over tests): served on dir/<socket_name>,
// connected, negotiated, and the ring started there.
struct RingHandOver {
    std::unique_ptr<DeviceServer> server;
    std::unique_ptr<VhostUserTestFrontend> frontend;
};
Result<RingHandOver> hand_over_ring(TempDir& dir, const std::string& socket_name,
                                    std::unique_ptr<Device> device, TestGuestMemory& memory,
                                    uint32_t index, VirtqueueDriver& ring, uint16_t base);

} // namespace runvm::broker::testing
