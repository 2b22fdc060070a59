// BackendSession: the vhost-user backend state machine of one device: features, memory
// table and vrings, driven by one frontend's requests; it is the device's DeviceContext.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/event_fd.hpp"
#include "broker/devices/device.hpp"
#include "vhost_user/message.hpp"

namespace runvm::broker::vhost_user {

// The wire format (vhost_user/, shared with runvm-vmm) is this namespace's vocabulary.
using namespace ::runvm::vhost_user;

class BackendSession : public DeviceContext {
public:
    BackendSession(Device& device, EventLoop& loop);
    ~BackendSession() override;
    BackendSession(const BackendSession&) = delete;
    BackendSession& operator=(const BackendSession&) = delete;

    // A request's own reply payload (GET_*); nullopt when it has none.
    using Reply = std::optional<std::vector<uint8_t>>;

    // Handles one request: dispatches it to its on_* method. An error means the request
    // was refused and nothing changed.
    Result<Reply> handle(Message& msg);

    // Whether a refused `request` must end the connection: the frontend waits for a reply
    // that a refusal cannot give.
    static bool expects_reply(uint32_t request);
    bool reply_ack_negotiated() const;

    // The frontend disconnected: stop every ring, unmap memory, reset the device.
    void disconnect();

    Virtqueue* queue(uint16_t index) override;
    void notify(uint16_t index) override;
    uint64_t acked_features() const override { return acked_features_; }

    uint64_t malformed_chains() const;

private:
    struct Vring {
        uint16_t size = 0;
        bool addr_set = false;
        uint64_t desc_uva = 0, avail_uva = 0, used_uva = 0;
        uint16_t base = 0;
        uint16_t stopped_at = 0; // GET_VRING_BASE's answer, to tell a resume from a reset
        EventFd kick;
        EventFd call;
        EventFd err;
        EventLoop::Token kick_token = 0;
        bool enabled = true;
        std::optional<Virtqueue> vq; // set while started
        uint64_t retired_malformed = 0;
    };

    // One per request; `what` is the request's name for errors.
    Result<Reply> on_get_features(const Message& msg, const char* what);
    Result<Reply> on_set_features(const Message& msg, const char* what);
    Result<Reply> on_get_protocol_features(const Message& msg, const char* what);
    Result<Reply> on_set_protocol_features(const Message& msg, const char* what);
    Result<Reply> on_get_queue_num(const Message& msg, const char* what);
    Result<Reply> on_set_owner(const Message& msg, const char* what);
    Result<Reply> on_reset_owner();
    Result<Reply> on_set_mem_table(const Message& msg);
    Result<Reply> on_set_vring_num(const Message& msg, const char* what);
    Result<Reply> on_set_vring_base(const Message& msg, const char* what);
    Result<Reply> on_set_vring_addr(const Message& msg, const char* what);
    Result<Reply> on_set_vring_kick(Message& msg, const char* what);
    Result<Reply> on_set_vring_call_or_err(Message& msg, const char* what);
    Result<Reply> on_set_vring_enable(const Message& msg, const char* what);
    Result<Reply> on_get_vring_base(const Message& msg, const char* what);
    Result<Reply> on_get_config(const Message& msg, const char* what);

    Result<Vring*> vring_for(uint32_t index, const char* what);
    template <typename Payload>
    Result<std::pair<Payload, Vring*>> ring_payload(const Message& msg, const char* what);
    Result<Vring*> vring_fd_message(Message& msg, const char* what);
    Result<void> start_ring(uint16_t index);
    void stop_ring(uint16_t index);
    Result<RingLayout> layout_for(const Vring& ring, const GuestMemory* memory) const;
    Result<std::vector<uint8_t>> get_config(const Message& msg) const;

    Device& device_;
    EventLoop& loop_;
    std::unique_ptr<GuestMemory> memory_;
    std::vector<Vring> rings_;
    uint64_t acked_features_ = 0;
    uint64_t acked_protocol_features_ = 0;
    bool features_set_ = false;
    bool reset_pending_ = false; // every ring was stopped by GET_VRING_BASE
};

} // namespace runvm::broker::vhost_user
