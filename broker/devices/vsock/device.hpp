// VsockDevice: virtio-vsock streams between the guest and host Unix sockets, hybrid-vsock
// style (Firecracker): host clients connect to the device's socket and write
// "CONNECT <port>\n"; guest connections to port P go to "<uds>_P". The device holds the
// listener and the clients still in their handshake; the streams are its VsockQueues'.
#pragma once

#include <map>
#include <memory>

#include "base/unique_fd.hpp"
#include "broker/devices/device.hpp"
#include "broker/devices/vsock/config.hpp"
#include "broker/devices/vsock/queue.hpp"

namespace runvm::broker::vsock {

class VsockDevice : public Device {
public:
    // Binds the host-side socket.
    static Result<std::unique_ptr<VsockDevice>> open(const VsockOptions& options);
    ~VsockDevice() override;

    const char* name() const override { return "vsock"; }
    uint64_t features() const override { return vsock_features(); }
    std::vector<uint8_t> config() const override { return vsock_config_space(options_.guest_cid); }
    uint16_t queue_count() const override { return 2; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override;

    const VsockStats& stats() const { return queues_.stats(); }
    size_t connection_count() const { return queues_.connection_count(); }

private:
    struct PendingClient {
        UniqueFd fd;
        EventLoop::Token token = 0;
        int64_t deadline_ms = 0;
    };

    VsockDevice(VsockOptions options, UniqueFd listener)
        : options_(std::move(options)), listener_(std::move(listener)), queues_(options_) {}

    void on_listener_ready();
    void on_client_ready(uint64_t id);
    void on_tick();

    VsockOptions options_;
    UniqueFd listener_;
    VsockQueues queues_;
    EventLoop* loop_ = nullptr;
    EventLoop::Token listener_token_ = 0;
    std::map<uint64_t, PendingClient> clients_;
    uint64_t next_client_id_ = 1;
};

} // namespace runvm::broker::vsock
