// VsockDevice: virtio-vsock streams between the guest and host Unix sockets, hybrid-vsock
// style (Firecracker): host clients connect to the device's socket and write
// "CONNECT <port>\n"; guest connections to port P go to "<uds>_P".
#pragma once

#include <deque>
#include <map>
#include <memory>

#include "base/unique_fd.hpp"
#include "broker/devices/device.hpp"
#include "broker/devices/vsock/config.hpp"
#include "broker/devices/vsock/connection.hpp"
#include "broker/devices/vsock/packet.hpp"

namespace runvm::broker::vsock {

struct VsockStats {
    uint64_t bad_packets = 0;
    uint64_t resets_sent = 0;
    uint64_t connections = 0;
    uint64_t bytes_to_host = 0;
    uint64_t bytes_to_guest = 0;
};

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

    const VsockStats& stats() const { return stats_; }
    size_t connection_count() const { return connections_.size(); }

    // How long a host client may take to send its CONNECT line, the guest to answer a
    // REQUEST, and a closing connection to drain.
    static constexpr int64_t HANDSHAKE_TIMEOUT_MS = 2000;
    static constexpr int64_t DRAIN_TIMEOUT_MS = 5000;
    static constexpr size_t MAX_CONTROL_BACKLOG = 4096;

private:
    struct PendingClient {
        UniqueFd fd;
        EventLoop::Token token = 0;
        int64_t deadline_ms = 0;
    };
    struct Control {
        ConnectionKey key;
        uint16_t op;
        uint32_t flags;
    };

    VsockDevice(VsockOptions options, UniqueFd listener)
        : options_(std::move(options)), listener_(std::move(listener)) {}

    // Host side (device.cpp).
    void on_listener_ready();
    void on_client_ready(uint64_t id);
    void start_host_connection(UniqueFd client, uint32_t guest_port);
    void on_host_ready(ConnectionKey key, uint32_t events);
    void on_tick();
    uint32_t allocate_host_port();
    void watch_host(VsockConnection& c);

    // Guest side (queue.cpp).
    void process_tx();
    void handle_packet(const PacketHeader& h, const DescriptorChain& chain);
    void guest_request(const PacketHeader& h);
    void guest_rw(VsockConnection& c, const PacketHeader& h, const DescriptorChain& chain);
    void pump_rx();
    bool send_data(VsockConnection& c, Virtqueue& q, const DescriptorChain& chain);
    bool pump_rx_once(Virtqueue& q, bool* out_of_buffers);
    VsockConnection* next_sendable();
    void queue_control(ConnectionKey key, uint16_t op, uint32_t flags = 0);
    void reset_connection(ConnectionKey key, const std::string& why);
    void drop_connection(ConnectionKey key);
    void finish_if_done(VsockConnection& c);
    PacketHeader header_for(ConnectionKey key, uint16_t op) const;

    VsockOptions options_;
    UniqueFd listener_;
    DeviceContext* context_ = nullptr;
    EventLoop* loop_ = nullptr;
    EventLoop::Token listener_token_ = 0;
    std::map<uint64_t, PendingClient> clients_;
    uint64_t next_client_id_ = 1;
    std::map<ConnectionKey, std::unique_ptr<VsockConnection>> connections_;
    std::deque<Control> control_;
    ConnectionKey rr_cursor_{0, 0};
    uint32_t next_host_port_ = 1U << 30;
    VsockStats stats_;
    // Reused on every packet, so the data paths allocate nothing per packet.
    DescriptorChain rx_chain_;
    std::vector<iovec> iov_;
};

int64_t monotonic_ms();

} // namespace runvm::broker::vsock
