// VsockQueues: virtio-vsock's rx and tx queues and the streams they carry: packets from
// the guest (tx), control packets and host data to the guest within its credit (rx), and
// each stream's host socket, watched on the device's event loop.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/uio.h>

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

// How long a host client may take to send its CONNECT line, the guest to answer a
// REQUEST, and a closing connection to drain.
inline constexpr int64_t HANDSHAKE_TIMEOUT_MS = 2000;
inline constexpr int64_t DRAIN_TIMEOUT_MS = 5000;
// Control packets waiting for guest rx buffers.
inline constexpr size_t MAX_CONTROL_BACKLOG = 4096;

int64_t monotonic_ms();

class VsockQueues {
public:
    explicit VsockQueues(const VsockOptions& options) : options_(options) {}
    ~VsockQueues() { reset(); }
    VsockQueues(const VsockQueues&) = delete;
    VsockQueues& operator=(const VsockQueues&) = delete;

    void attach(DeviceContext* context, EventLoop* loop) {
        context_ = context;
        loop_ = loop;
    }
    // The guest posted packets (tx).
    void process_tx();
    // Fills the guest's rx buffers with control packets, then host data round robin.
    void pump_rx();
    // A host client finished its CONNECT line: a REQUEST to the guest's `guest_port`.
    void start_host_connection(UniqueFd client, uint32_t guest_port);
    // Resets connections past their deadline, then serves rx.
    void on_tick(int64_t now_ms);
    // Drops every connection and pending control packet.
    void reset();

    const VsockStats& stats() const { return stats_; }
    size_t connection_count() const { return connections_.size(); }

private:
    struct Control {
        ConnectionKey key;
        uint16_t op;
        uint32_t flags;
    };

    // Host sockets.
    void on_host_ready(ConnectionKey key, uint32_t events);
    uint32_t allocate_host_port();
    void watch_host(VsockConnection& c);

    // tx.
    void handle_packet(const PacketHeader& h, const DescriptorChain& chain);
    void guest_request(const PacketHeader& h);
    void guest_rw(VsockConnection& c, const PacketHeader& h, const DescriptorChain& chain);

    // rx.
    bool send_data(VsockConnection& c, Virtqueue& q, const DescriptorChain& chain);
    bool pump_rx_once(Virtqueue& q, bool* out_of_buffers);
    VsockConnection* next_sendable();

    // Both.
    void queue_control(ConnectionKey key, uint16_t op, uint32_t flags = 0);
    void reset_connection(ConnectionKey key, const std::string& why);
    void drop_connection(ConnectionKey key);
    void finish_if_done(VsockConnection& c);
    PacketHeader header_for(ConnectionKey key, uint16_t op) const;

    const VsockOptions& options_;
    DeviceContext* context_ = nullptr;
    EventLoop* loop_ = nullptr;
    std::map<ConnectionKey, std::unique_ptr<VsockConnection>> connections_;
    std::deque<Control> control_;
    ConnectionKey rr_cursor_{0, 0};
    uint32_t next_host_port_ = 1U << 30;
    VsockStats stats_;
    // Reused on every packet, so the data paths allocate nothing per packet.
    DescriptorChain rx_chain_;
    std::vector<iovec> iov_;
};

} // namespace runvm::broker::vsock
