// VsockDevice, host side: the hybrid-vsock listener, CONNECT handshakes, host socket
// events and timeouts.
#include "broker/devices/vsock/device.hpp"

#include <cerrno>
#include <chrono>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_socket.hpp"
#include "broker/devices/vsock/handshake.hpp"

namespace runvm::broker::vsock {

int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

Result<std::unique_ptr<VsockDevice>> VsockDevice::open(const VsockOptions& options) {
    if (options.guest_cid <= HOST_CID || options.guest_cid >= 0xffffffffULL) {
        return Err(Error::with_errno(EINVAL, "vsock: guest cid " +
                                                 std::to_string(options.guest_cid) +
                                                 " (want 3 to 2^32-2)"));
    }
    RUNVM_ASSIGN_OR_RETURN(UniqueFd listener, listen_unix(options.uds_path, 64));
    return std::unique_ptr<VsockDevice>(new VsockDevice(options, std::move(listener)));
}

VsockDevice::~VsockDevice() {
    reset();
    if (loop_ != nullptr) {
        loop_->remove(listener_token_);
    }
    ::unlink(options_.uds_path.c_str());
}

Result<void> VsockDevice::attach(DeviceContext* context, EventLoop* loop) {
    context_ = context;
    loop_ = loop;
    RUNVM_ASSIGN_OR_RETURN(listener_token_, loop_->add(listener_.get(), EPOLLIN,
                                                       [this](uint32_t) { on_listener_ready(); }));
    loop_->on_tick([this] { on_tick(); });
    return Ok();
}

void VsockDevice::on_kick(uint16_t queue) {
    if (queue == TXQ) {
        process_tx();
    }
    pump_rx();
}

void VsockDevice::reset() {
    for (auto& [id, client] : clients_) {
        loop_->remove(client.token);
    }
    clients_.clear();
    for (auto& [key, c] : connections_) {
        loop_->remove(c->token);
    }
    connections_.clear();
    control_.clear();
}

void VsockDevice::on_listener_ready() {
    for (;;) {
        auto accepted = accept_unix(listener_.get(), true, options_.uds_path.c_str());
        if (!accepted) {
            spdlog::warn("vsock: {}", accepted.error().str());
            return;
        }
        if (!accepted->valid()) {
            return;
        }
        const uint64_t id = next_client_id_++;
        PendingClient client{std::move(*accepted), 0, monotonic_ms() + HANDSHAKE_TIMEOUT_MS};
        auto token =
            loop_->add(client.fd.get(), EPOLLIN, [this, id](uint32_t) { on_client_ready(id); });
        if (!token) {
            spdlog::warn("vsock: {}", token.error().str());
            continue;
        }
        client.token = *token;
        clients_.emplace(id, std::move(client));
    }
}

void VsockDevice::on_client_ready(uint64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
        return;
    }
    // Peek first: bytes after the newline belong to the stream, not the handshake.
    char buf[MAX_CONNECT_LINE];
    const ssize_t n = ::recv(it->second.fd.get(), buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    auto line = n > 0 ? parse_connect_line(std::string_view(buf, static_cast<size_t>(n)))
                      : ConnectLine{ConnectLine::Status::invalid, 0, 0};
    if (line.status == ConnectLine::Status::incomplete) {
        return; // wait for the rest, until the deadline
    }
    UniqueFd fd = std::move(it->second.fd);
    loop_->remove(it->second.token);
    clients_.erase(it);
    if (line.status == ConnectLine::Status::invalid) {
        spdlog::warn("vsock: host client sent no valid CONNECT line, closed");
        return;
    }
    // Consume exactly the line.
    if (::recv(fd.get(), buf, line.length, MSG_DONTWAIT) != static_cast<ssize_t>(line.length)) {
        return;
    }
    start_host_connection(std::move(fd), line.port);
}

uint32_t VsockDevice::allocate_host_port() {
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

void VsockDevice::start_host_connection(UniqueFd client, uint32_t guest_port) {
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

void VsockDevice::watch_host(VsockConnection& c) {
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

void VsockDevice::on_host_ready(ConnectionKey key, uint32_t events) {
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

void VsockDevice::on_tick() {
    const int64_t now = monotonic_ms();
    for (auto it = clients_.begin(); it != clients_.end();) {
        if (now >= it->second.deadline_ms) {
            spdlog::warn("vsock: host client sent no CONNECT line in time, closed");
            loop_->remove(it->second.token);
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
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

} // namespace runvm::broker::vsock
