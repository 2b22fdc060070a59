// VhostUserTestFrontend: a small vhost-user frontend (what QEMU or runvm-vmm does) for tests
// and benchmarks: negotiates, shares TestGuestMemory, starts rings driven by
// VirtqueueDriver, kicks and waits for calls. Raw send/receive let tests send malformed
// traffic. Reusable by the VMM's own tests against the real broker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/event_fd.hpp"
#include "base/unique_fd.hpp"
#include "broker/testing/test_guest_memory.hpp"
#include "broker/testing/virtqueue_driver.hpp"
#include "vhost_user/message.hpp"

namespace runvm::broker::testing {

class VhostUserTestFrontend {
public:
    // Connects, retrying until timeout_ms while the backend is not listening yet.
    static Result<VhostUserTestFrontend> connect(const std::string& path, int timeout_ms = 2000);

    // Raw framing. `flags` defaults to version 1 with NEED_REPLY.
    Result<void>
    send(uint32_t request, const void* payload, uint32_t size, const std::vector<int>& fds = {},
         uint32_t flags = ::runvm::vhost_user::VERSION | ::runvm::vhost_user::FLAG_NEED_REPLY);
    Result<::runvm::vhost_user::Message> receive(int timeout_ms = 2000);
    // Sends with NEED_REPLY and reads the ack: 0 accepted, non-zero refused.
    Result<uint64_t> send_acked(uint32_t request, const void* payload, uint32_t size,
                                const std::vector<int>& fds = {});
    Result<uint64_t> get_u64(uint32_t request);

    // SET_OWNER, features (device's offer & wanted, plus PROTOCOL_FEATURES), protocol
    // features (REPLY_ACK, CONFIG, MQ) and SET_MEM_TABLE of `memory`.
    Result<void> negotiate(uint64_t wanted_features, TestGuestMemory& memory);
    Result<void> set_mem_table(TestGuestMemory& memory);
    // SET_VRING_NUM/BASE/ADDR/CALL/KICK for `ring`, as QEMU's vhost_virtqueue_start does;
    // `base` is where the backend takes up the available ring (a restored VM's saved one).
    Result<void> start_ring(uint32_t index, VirtqueueDriver& ring, uint16_t base = 0);
    Result<uint32_t> stop_ring(uint32_t index); // GET_VRING_BASE
    Result<std::vector<uint8_t>> get_config(uint32_t offset, uint32_t size);

    Result<void> kick(uint32_t index);
    // Waits for the backend's call on `index`; false on timeout.
    Result<bool> wait_call(uint32_t index, int timeout_ms);
    // How many times the device signalled ring `index`'s call fd since the last look
    // (eventfd counts writes), without waiting.
    uint64_t take_calls(uint32_t index);
    // True when the backend has closed the connection.
    bool peer_closed(int timeout_ms = 1000);

    uint64_t features() const { return features_; }
    int fd() const { return sock_.get(); }

private:
    explicit VhostUserTestFrontend(UniqueFd sock) : sock_(std::move(sock)) {}
    UniqueFd sock_;
    uint64_t features_ = 0;
    std::vector<EventFd> kicks_;
    std::vector<EventFd> calls_;
};

} // namespace runvm::broker::testing
