// VsockConnection: one guest<->host stream: the host socket, both ports, credit counters
// (virtio 1.2 5.10.6.3) and data the host socket could not take yet.
#pragma once

#include <cstdint>
#include <string>

#include <sys/uio.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "broker/runtime/event_loop.hpp"

namespace runvm::broker::vsock {

// What the broker buffers per connection towards the host, advertised as buf_alloc.
inline constexpr uint32_t HOST_BUF_ALLOC = 256 * 1024;

struct ConnectionKey {
    uint32_t host_port;
    uint32_t guest_port;
    bool operator<(const ConnectionKey& o) const {
        return host_port != o.host_port ? host_port < o.host_port : guest_port < o.guest_port;
    }
    bool operator==(const ConnectionKey& o) const = default;
};

class VsockConnection {
public:
    enum class State { awaiting_response, established };

    VsockConnection(ConnectionKey key, UniqueFd host, State state)
        : key_(key), host_(std::move(host)), state_(state) {}

    ConnectionKey key() const { return key_; }
    int host_fd() const { return host_.get(); }
    State state() const { return state_; }
    void set_established() { state_ = State::established; }

    // Guest -> host. Takes the guest's payload: writes what the socket accepts now and keeps
    // the rest. Errors: the host side is gone, or the guest ignored its credit.
    Result<void> send_to_host(const ::iovec* iov, int count, uint64_t len);
    // Writes buffered bytes; true when nothing is left.
    Result<bool> flush_to_host();
    bool has_pending() const { return !pending_.empty(); }

    // Credit the guest gave us: how much more it can take now.
    uint32_t peer_credit() const { return peer_buf_alloc_ - (rx_cnt_ - peer_fwd_cnt_); }
    void update_peer_credit(uint32_t buf_alloc, uint32_t fwd_cnt) {
        peer_buf_alloc_ = buf_alloc;
        peer_fwd_cnt_ = fwd_cnt;
    }
    void count_sent_to_guest(uint32_t n) { rx_cnt_ += n; }

    uint32_t fwd_cnt() const { return fwd_cnt_; }
    // The guest needs to hear about freed space: a quarter of the buffer since the last
    // header it got.
    bool credit_update_due() const { return fwd_cnt_ - reported_fwd_cnt_ >= HOST_BUF_ALLOC / 4; }
    void reported(uint32_t fwd_cnt) { reported_fwd_cnt_ = fwd_cnt; }

    // Event bookkeeping, owned by the device.
    EventLoop::Token token = 0;
    uint32_t watched_events = 0;  // what `token` is registered for, to skip needless epoll_ctl
    bool host_readable = false;   // EPOLLIN seen and not yet drained
    bool host_eof = false;        // the host side will send no more
    bool host_write_shut = false; // shutdown(SHUT_WR) done after the guest's SEND shutdown
    bool credit_update_queued = false;
    uint32_t peer_shutdown = 0; // SHUTDOWN_RCV / SHUTDOWN_SEND from the guest
    int64_t deadline_ms = 0;    // awaiting RESPONSE or draining before close; 0: none

private:
    ConnectionKey key_;
    UniqueFd host_;
    State state_;
    std::string pending_;
    uint32_t peer_buf_alloc_ = 0;
    uint32_t peer_fwd_cnt_ = 0;
    uint32_t rx_cnt_ = 0;
    uint32_t fwd_cnt_ = 0;
    uint32_t reported_fwd_cnt_ = 0;
};

} // namespace runvm::broker::vsock
