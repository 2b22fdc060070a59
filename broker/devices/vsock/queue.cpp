// VsockQueues: the tx queue (packets from the guest), the rx queue (control packets and
// host data to the guest, within the guest's credit), and the streams' host sockets.
#include "broker/devices/vsock/queue.hpp"

#include <cerrno>
#include <chrono>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/unix_socket.hpp"
#include "broker/devices/vsock/handshake.hpp"

namespace runvm::broker::vsock {

int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void VsockQueues::reset() {
    for (auto& [key, c] : connections_) {
        loop_->remove(c->token);
    }
    connections_.clear();
    control_.clear();
}

uint32_t VsockQueues::allocate_host_port() {
    for (;;) {
        const uint32_t port = next_host_port_++;
        if (next_host_port_ == 0) {
            next_host_port_ = 1U << 30;
        }
        bool used = false;
        for (const auto& [key, c] : connections_) {
            used = used || key.host_port == port;
        }
        if (!used) {
            return port;
        }
    }
}

void VsockQueues::start_host_connection(UniqueFd client, uint32_t guest_port) {
    const ConnectionKey key{allocate_host_port(), guest_port};
    auto c = std::make_unique<VsockConnection>(key, std::move(client),
                                               VsockConnection::State::awaiting_response);
    c->deadline_ms = monotonic_ms() + HANDSHAKE_TIMEOUT_MS;
    auto token = loop_->add(c->host_fd(), 0, [this, key](uint32_t ev) { on_host_ready(key, ev); });
    if (!token) {
        spdlog::warn("vsock: {}", token.error().str());
        return;
    }
    c->token = *token;
    connections_.emplace(key, std::move(c));
    ++stats_.connections;
    spdlog::debug("vsock: host port {} -> guest port {}: REQUEST", key.host_port, guest_port);
    queue_control(key, OP_REQUEST);
    pump_rx();
}

void VsockQueues::watch_host(VsockConnection& c) {
    uint32_t events = 0;
    // EPOLLIN stays registered while the socket is drained (level-triggered, so no data is
    // missed) and goes only while readable data waits for guest buffers or credit.
    if (c.state() == VsockConnection::State::established && !c.host_readable && !c.host_eof &&
        (c.peer_shutdown & SHUTDOWN_RCV) == 0) {
        events |= EPOLLIN;
    }
    if (c.has_pending()) {
        events |= EPOLLOUT;
    }
    // epoll reports HUP even for an empty mask, and a hung-up socket would spin the loop:
    // a socket with nothing to wait for leaves the epoll set.
    if (events == 0) {
        if (c.token != 0) {
            loop_->remove(c.token);
            c.token = 0;
        }
        return;
    }
    if (c.token != 0) {
        if (events != c.watched_events && loop_->modify(c.token, events)) {
            c.watched_events = events;
        }
        return;
    }
    const ConnectionKey key = c.key();
    auto token =
        loop_->add(c.host_fd(), events, [this, key](uint32_t ev) { on_host_ready(key, ev); });
    if (token) {
        c.token = *token;
        c.watched_events = events;
    }
}

void VsockQueues::on_host_ready(ConnectionKey key, uint32_t events) {
    auto it = connections_.find(key);
    if (it == connections_.end()) {
        return;
    }
    VsockConnection& c = *it->second;
    if ((events & EPOLLOUT) != 0 && c.has_pending()) {
        auto flushed = c.flush_to_host();
        if (!flushed) {
            reset_connection(key, flushed.error().str());
            pump_rx();
            return;
        }
        if (c.credit_update_due() && !c.credit_update_queued) {
            queue_control(key, OP_CREDIT_UPDATE);
        }
        finish_if_done(c);
        if (connections_.find(key) == connections_.end()) {
            pump_rx();
            return;
        }
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        if (c.state() != VsockConnection::State::established) {
            // The host client gave up before the guest answered.
            reset_connection(key, "host client closed during the handshake");
            pump_rx();
            return;
        }
        if (!c.host_readable && !c.host_eof) {
            // Served first, registration after: a socket drained by pump_rx keeps its
            // EPOLLIN and costs no epoll_ctl.
            c.host_readable = true;
            pump_rx();
            auto again = connections_.find(key);
            if (again != connections_.end()) {
                watch_host(*again->second);
            }
            return;
        }
    }
    watch_host(c);
    pump_rx();
}

void VsockQueues::on_tick(int64_t now) {
    std::vector<ConnectionKey> expired;
    for (const auto& [key, c] : connections_) {
        if (c->deadline_ms != 0 && now >= c->deadline_ms) {
            expired.push_back(key);
        }
    }
    for (const auto& key : expired) {
        reset_connection(key, "timed out");
    }
    pump_rx();
}

PacketHeader VsockQueues::header_for(ConnectionKey key, uint16_t op) const {
    PacketHeader h;
    h.src_cid = HOST_CID;
    h.dst_cid = options_.guest_cid;
    h.src_port = key.host_port;
    h.dst_port = key.guest_port;
    h.type = TYPE_STREAM;
    h.op = op;
    h.buf_alloc = HOST_BUF_ALLOC;
    auto it = connections_.find(key);
    h.fwd_cnt = it == connections_.end() ? 0 : it->second->fwd_cnt();
    return h;
}

void VsockQueues::queue_control(ConnectionKey key, uint16_t op, uint32_t flags) {
    if (op == OP_CREDIT_UPDATE) {
        auto it = connections_.find(key);
        if (it != connections_.end()) {
            it->second->credit_update_queued = true;
        }
    }
    if (op == OP_RST) {
        // A guest that floods bad packets without posting rx buffers must not grow this.
        if (control_.size() >= MAX_CONTROL_BACKLOG) {
            return;
        }
        ++stats_.resets_sent;
    }
    control_.push_back(Control{key, op, flags});
}

void VsockQueues::drop_connection(ConnectionKey key) {
    auto it = connections_.find(key);
    if (it != connections_.end()) {
        loop_->remove(it->second->token);
        connections_.erase(it);
    }
}

void VsockQueues::reset_connection(ConnectionKey key, const std::string& why) {
    spdlog::debug("vsock: host port {} guest port {}: reset: {}", key.host_port, key.guest_port,
                  why);
    drop_connection(key);
    queue_control(key, OP_RST);
}

void VsockQueues::finish_if_done(VsockConnection& c) {
    if (c.has_pending()) {
        return;
    }
    if ((c.peer_shutdown & SHUTDOWN_SEND) != 0 && !c.host_write_shut) {
        ::shutdown(c.host_fd(), SHUT_WR);
        c.host_write_shut = true;
    }
    const bool guest_done = c.peer_shutdown == (SHUTDOWN_SEND | SHUTDOWN_RCV);
    const bool both_sent = (c.peer_shutdown & SHUTDOWN_SEND) != 0 && c.host_eof;
    if (guest_done || both_sent) {
        // Both directions are finished: the guest expects a reset to release its socket.
        reset_connection(c.key(), "closed");
    }
}

void VsockQueues::process_tx() {
    drain_queue(*context_, TXQ, [this](const DescriptorChain& chain) -> uint32_t {
        auto packet = parse_tx_packet(chain, options_.guest_cid);
        if (!packet) {
            ++stats_.bad_packets;
            spdlog::warn("vsock: {}", packet.error().str());
            uint8_t raw[HEADER_BYTES];
            if (chain.read(0, raw, sizeof(raw)) == sizeof(raw)) {
                const PacketHeader h = decode_header(raw);
                if (h.src_cid == options_.guest_cid && h.dst_cid == HOST_CID && h.op != OP_RST) {
                    reset_connection(ConnectionKey{h.dst_port, h.src_port}, "bad packet");
                }
            }
            return 0;
        }
        handle_packet(packet->header, chain);
        return 0;
    });
}

void VsockQueues::handle_packet(const PacketHeader& h, const DescriptorChain& chain) {
    const ConnectionKey key{h.dst_port, h.src_port};
    if (h.op == OP_REQUEST) {
        guest_request(h);
        return;
    }
    auto it = connections_.find(key);
    if (it == connections_.end()) {
        if (h.op != OP_RST) {
            queue_control(key, OP_RST);
        }
        return;
    }
    VsockConnection& c = *it->second;
    c.update_peer_credit(h.buf_alloc, h.fwd_cnt);
    switch (h.op) {
    case OP_RESPONSE: {
        if (c.state() != VsockConnection::State::awaiting_response) {
            reset_connection(key, "unexpected RESPONSE");
            return;
        }
        const std::string ok = ok_line(key.host_port);
        if (::send(c.host_fd(), ok.data(), ok.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
            static_cast<ssize_t>(ok.size())) {
            reset_connection(key, "host client gone before OK");
            return;
        }
        c.set_established();
        c.deadline_ms = 0;
        watch_host(c);
        return;
    }
    case OP_RST:
        drop_connection(key);
        return;
    case OP_SHUTDOWN:
        c.peer_shutdown |= h.flags & (SHUTDOWN_RCV | SHUTDOWN_SEND);
        if (c.has_pending()) {
            c.deadline_ms = monotonic_ms() + DRAIN_TIMEOUT_MS;
        }
        finish_if_done(c);
        if (connections_.count(key) != 0) {
            watch_host(c);
        }
        return;
    case OP_RW:
        guest_rw(c, h, chain);
        return;
    case OP_CREDIT_UPDATE:
        return; // the credit was taken above; pump_rx uses it
    case OP_CREDIT_REQUEST:
        if (!c.credit_update_queued) {
            queue_control(key, OP_CREDIT_UPDATE);
        }
        return;
    default:
        reset_connection(key, "unknown op");
        return;
    }
}

void VsockQueues::guest_request(const PacketHeader& h) {
    const ConnectionKey key{h.dst_port, h.src_port};
    if (connections_.count(key) != 0) {
        reset_connection(key, "REQUEST for a connection that exists");
        return;
    }
    const std::string path = options_.uds_path + "_" + std::to_string(h.dst_port);
    auto host = connect_unix(path, true);
    if (!host) {
        spdlog::info("vsock: guest port {} -> host port {}: {}", h.src_port, h.dst_port,
                     host.error().str());
        queue_control(key, OP_RST);
        return;
    }
    auto c = std::make_unique<VsockConnection>(key, std::move(*host),
                                               VsockConnection::State::established);
    c->update_peer_credit(h.buf_alloc, h.fwd_cnt);
    auto token =
        loop_->add(c->host_fd(), EPOLLIN, [this, key](uint32_t ev) { on_host_ready(key, ev); });
    if (!token) {
        spdlog::warn("vsock: {}", token.error().str());
        queue_control(key, OP_RST);
        return;
    }
    c->token = *token;
    c->watched_events = EPOLLIN;
    connections_.emplace(key, std::move(c));
    ++stats_.connections;
    queue_control(key, OP_RESPONSE);
}

void VsockQueues::guest_rw(VsockConnection& c, const PacketHeader& h,
                           const DescriptorChain& chain) {
    const ConnectionKey key = c.key();
    if (c.state() != VsockConnection::State::established ||
        (c.peer_shutdown & SHUTDOWN_SEND) != 0) {
        reset_connection(key, "data outside an open stream");
        return;
    }
    chain.readable_iov(HEADER_BYTES, h.len, iov_);
    auto sent = c.send_to_host(iov_.data(), static_cast<int>(iov_.size()), h.len);
    if (!sent) {
        reset_connection(key, sent.error().str());
        return;
    }
    stats_.bytes_to_host += h.len;
    if (c.credit_update_due() && !c.credit_update_queued) {
        queue_control(key, OP_CREDIT_UPDATE);
    }
    watch_host(c);
}

VsockConnection* VsockQueues::next_sendable() {
    if (connections_.empty()) {
        return nullptr;
    }
    // Round robin: start after the connection served last.
    auto start = connections_.upper_bound(rr_cursor_);
    for (size_t n = 0; n < connections_.size(); ++n, ++start) {
        if (start == connections_.end()) {
            start = connections_.begin();
        }
        VsockConnection& c = *start->second;
        if (c.host_readable && c.state() == VsockConnection::State::established &&
            c.peer_credit() > 0) {
            rr_cursor_ = c.key();
            return &c;
        }
    }
    return nullptr;
}

// Receives from the host socket straight into the guest's buffer (no intermediate copy).
// False when the socket had nothing after all: the caller puts the buffer back.
bool VsockQueues::send_data(VsockConnection& c, Virtqueue& q, const DescriptorChain& chain) {
    const uint64_t room = std::min<uint64_t>(chain.writable_bytes - HEADER_BYTES, MAX_PAYLOAD);
    const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(room, c.peer_credit()));
    chain.writable_iov(HEADER_BYTES, want, iov_);
    msghdr msg{};
    msg.msg_iov = iov_.data();
    msg.msg_iovlen = iov_.size();
    ssize_t n;
    do {
        n = ::recvmsg(c.host_fd(), &msg, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    PacketHeader h = header_for(c.key(), OP_RW);
    if (n > 0) {
        h.len = static_cast<uint32_t>(n);
        c.count_sent_to_guest(h.len);
        stats_.bytes_to_guest += h.len;
        if (h.len < want) {
            // A stream socket fills the buffer while it has data: a short read drained it.
            // EPOLLIN (still registered) reports more, so no EAGAIN round trip is needed.
            c.host_readable = false;
            watch_host(c);
        }
    } else if (n == 0 || errno != EAGAIN) {
        // The host side will send no more: tell the guest, keep receiving from it.
        h.op = OP_SHUTDOWN;
        h.flags = SHUTDOWN_SEND;
        c.host_eof = true;
        c.host_readable = false;
    } else {
        return false;
    }
    uint8_t raw[HEADER_BYTES];
    encode_header(h, raw);
    chain.write(0, raw, sizeof(raw));
    c.reported(h.fwd_cnt);
    c.credit_update_queued = false;
    q.add_used(chain.head, HEADER_BYTES + h.len);
    if (c.host_eof) {
        finish_if_done(c);
    }
    return true;
}

// Fills guest buffers with control packets first, then host data round robin, until one
// runs out. Returns whether a buffer was used; `out_of_buffers` says why it stopped.
bool VsockQueues::pump_rx_once(Virtqueue& q, bool* out_of_buffers) {
    bool added = false;
    *out_of_buffers = false;
    for (;;) {
        VsockConnection* data = control_.empty() ? next_sendable() : nullptr;
        if (control_.empty() && data == nullptr) {
            return added;
        }
        auto next = q.pop(rx_chain_);
        if (!next) {
            spdlog::error("vsock rx: {}", next.error().str());
            return added;
        }
        if (!*next) {
            *out_of_buffers = true; // the next rx kick resumes
            return added;
        }
        const DescriptorChain& chain = rx_chain_;
        // A data packet needs room past the header; a control packet only the header.
        if (chain.writable_bytes < HEADER_BYTES ||
            (data != nullptr && chain.writable_bytes == HEADER_BYTES)) {
            ++stats_.bad_packets;
            q.add_used(chain.head, 0);
            added = true;
            continue;
        }
        if (data != nullptr) {
            if (!send_data(*data, q, chain)) {
                // Nothing to read after all: the buffer goes back, the socket waits for EPOLLIN.
                q.unpop();
                data->host_readable = false;
                watch_host(*data);
                continue;
            }
        } else {
            const Control ctl = control_.front();
            control_.pop_front();
            PacketHeader h = header_for(ctl.key, ctl.op);
            h.flags = ctl.flags;
            auto it = connections_.find(ctl.key);
            if (it != connections_.end()) {
                it->second->reported(h.fwd_cnt);
                if (ctl.op == OP_CREDIT_UPDATE) {
                    it->second->credit_update_queued = false;
                }
            }
            uint8_t raw[HEADER_BYTES];
            encode_header(h, raw);
            chain.write(0, raw, sizeof(raw));
            q.add_used(chain.head, HEADER_BYTES);
        }
        // One interrupt per batch, in pump_rx: a guest that sleeps on every empty ring
        // (as Linux's rx worker does) would otherwise wake once per packet.
        added = true;
    }
}

void VsockQueues::pump_rx() {
    Virtqueue* q = context_->queue(RXQ);
    if (q == nullptr) {
        return;
    }
    bool added = false;
    bool out_of_buffers = false;
    do {
        added = pump_rx_once(*q, &out_of_buffers) || added;
        // Kicks are only wanted while the device waits for buffers; with EVENT_IDX a
        // stale avail_event keeps the driver from kicking for buffers it adds meanwhile.
    } while (out_of_buffers && q->enable_kicks());
    if (added) {
        context_->notify(RXQ);
    }
}

} // namespace runvm::broker::vsock
