// DeviceHarness: server start, frontend negotiation and a synchronous submit helper.
#include "broker/testing/device_harness.hpp"

#include <cerrno>
#include <chrono>

namespace runvm::broker::testing {

Result<std::unique_ptr<DeviceHarness>> DeviceHarness::start(TempDir& dir,
                                                            std::unique_ptr<Device> device,
                                                            uint64_t ram_bytes, uint64_t features) {
    std::unique_ptr<DeviceHarness> h(new DeviceHarness());
    const std::string sock = dir.file(std::string(device->name()) + ".sock");
    RUNVM_ASSIGN_OR_RETURN(h->server_, DeviceServer::create(std::move(device), sock));
    RUNVM_TRY(h->server_->start());
    RUNVM_ASSIGN_OR_RETURN(TestGuestMemory mem, TestGuestMemory::create(ram_bytes));
    h->memory_ = std::make_unique<TestGuestMemory>(std::move(mem));
    RUNVM_ASSIGN_OR_RETURN(VhostUserTestFrontend fe, VhostUserTestFrontend::connect(sock));
    h->frontend_ = std::make_unique<VhostUserTestFrontend>(std::move(fe));
    RUNVM_TRY(h->frontend_->negotiate(features, *h->memory_));
    return h;
}

Result<VirtqueueDriver*> DeviceHarness::start_ring(uint32_t index, uint16_t size) {
    while (rings_.size() <= index) {
        rings_.push_back(nullptr);
    }
    rings_[index] = std::make_unique<VirtqueueDriver>(*memory_, size);
    RUNVM_TRY(frontend_->start_ring(index, *rings_[index]));
    return rings_[index].get();
}

Result<std::vector<virtio::UsedElement>>
DeviceHarness::submit_and_wait(uint32_t index, size_t count, int timeout_ms) {
    VirtqueueDriver& q = ring(index);
    q.publish();
    RUNVM_TRY(frontend_->kick(index));
    std::vector<virtio::UsedElement> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out.size() < count) {
        while (auto e = q.take_used()) {
            out.push_back(*e);
        }
        if (out.size() >= count) {
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return Err(Error::with_errno(ETIMEDOUT, "ring " + std::to_string(index) + ": " +
                                                        std::to_string(out.size()) + " of " +
                                                        std::to_string(count) + " used"));
        }
        q.arm_interrupt();
        if (auto e = q.take_used()) {
            out.push_back(*e);
            continue;
        }
        RUNVM_TRY(frontend_->wait_call(index, static_cast<int>(std::min<long>(left, 100))));
    }
    return out;
}

Result<RingHandOver> hand_over_ring(TempDir& dir, const std::string& socket_name,
                                    std::unique_ptr<Device> device, TestGuestMemory& memory,
                                    uint32_t index, VirtqueueDriver& ring, uint16_t base) {
    RingHandOver h;
    RUNVM_ASSIGN_OR_RETURN(h.server,
                           DeviceServer::create(std::move(device), dir.file(socket_name)));
    RUNVM_TRY(h.server->start());
    RUNVM_ASSIGN_OR_RETURN(VhostUserTestFrontend fe,
                           VhostUserTestFrontend::connect(h.server->socket_path()));
    h.frontend = std::make_unique<VhostUserTestFrontend>(std::move(fe));
    RUNVM_TRY(h.frontend->negotiate(~0ULL, memory));
    RUNVM_TRY(h.frontend->start_ring(index, ring, base));
    return h;
}

} // namespace runvm::broker::testing
