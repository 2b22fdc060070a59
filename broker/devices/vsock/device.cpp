// VsockDevice: the hybrid-vsock listener, CONNECT handshakes and their timeouts; a
// finished handshake becomes a stream of the queues.
#include "broker/devices/vsock/device.hpp"

#include <cerrno>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_socket.hpp"
#include "broker/devices/vsock/handshake.hpp"

namespace runvm::broker::vsock {

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
    queues_.attach(context, loop);
    loop_ = loop;
    RUNVM_ASSIGN_OR_RETURN(listener_token_, loop_->add(listener_.get(), EPOLLIN,
                                                       [this](uint32_t) { on_listener_ready(); }));
    loop_->on_tick([this] { on_tick(); });
    return Ok();
}

void VsockDevice::on_kick(uint16_t queue) {
    if (queue == TXQ) {
        queues_.process_tx();
    }
    queues_.pump_rx();
}

void VsockDevice::reset() {
    for (auto& [id, client] : clients_) {
        loop_->remove(client.token);
    }
    clients_.clear();
    queues_.reset();
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
    queues_.start_host_connection(std::move(fd), line.port);
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
    queues_.on_tick(now);
}

} // namespace runvm::broker::vsock
