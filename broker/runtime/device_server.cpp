// DeviceServer: accept, read, dispatch, reply; protocol errors end the connection and
// reset the device, refused requests do not.
#include "broker/runtime/device_server.hpp"

#include <cerrno>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/unix_socket.hpp"
#include "vhost_user/message.hpp"

namespace runvm::broker {

namespace {

// A frontend that stops mid-message must not hold the device thread for longer.
constexpr int MESSAGE_TIMEOUT_S = 2;

Result<void> set_timeouts(int fd) {
    const timeval tv{MESSAGE_TIMEOUT_S, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        return Err(Error::from_errno("setsockopt SO_RCVTIMEO/SO_SNDTIMEO vhost-user connection"));
    }
    return Ok();
}

} // namespace

Result<VhostUserSocket> VhostUserSocket::listen(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    VhostUserSocket s;
    s.path = path;
    s.name = slash == std::string::npos ? path : path.substr(slash + 1);
    s.dir = UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!s.dir) {
        return Err(Error::from_errno("open directory of vhost-user socket " + path));
    }
    RUNVM_ASSIGN_OR_RETURN(s.listener, listen_unix(path, 4));
    return s;
}

DeviceServer::DeviceServer(std::unique_ptr<Device> device, VhostUserSocket socket,
                           std::unique_ptr<EventLoop> loop)
    : device_(std::move(device)), socket_(std::move(socket)), loop_(std::move(loop)) {}

Result<std::unique_ptr<DeviceServer>> DeviceServer::create(std::unique_ptr<Device> device,
                                                           std::string socket_path) {
    RUNVM_ASSIGN_OR_RETURN(VhostUserSocket socket, VhostUserSocket::listen(socket_path));
    return create(std::move(device), std::move(socket));
}

Result<std::unique_ptr<DeviceServer>> DeviceServer::create(std::unique_ptr<Device> device,
                                                           VhostUserSocket socket) {
    RUNVM_ASSIGN_OR_RETURN(auto loop, EventLoop::create());
    std::unique_ptr<DeviceServer> server(
        new DeviceServer(std::move(device), std::move(socket), std::move(loop)));
    server->session_ =
        std::make_unique<vhost_user::BackendSession>(*server->device_, *server->loop_);
    RUNVM_TRY(server->device_->attach(server->session_.get(), server->loop_.get()));
    DeviceServer* self = server.get();
    server->loop_->on_tick(
        [self] { self->stats_.malformed_chains = self->session_->malformed_chains(); });
    RUNVM_TRY(server->loop_->add(server->socket_.listener.get(), EPOLLIN,
                                 [self](uint32_t) { self->on_listener_ready(); }));
    return server;
}

DeviceServer::~DeviceServer() {
    stop();
    // The session and device go before the loop they registered fds with.
    session_.reset();
    device_.reset();
    ::unlinkat(socket_.dir.get(), socket_.name.c_str(), 0);
}

Result<void> DeviceServer::start() {
    ThreadOptions options;
    // The loop sleeps in epoll_wait: its wake eventfd is how a stop reaches it.
    options.wake = [this] { loop_->stop(); };
    RUNVM_ASSIGN_OR_RETURN(thread_, OwnedThread::start(
                                        std::string("broker ") + device_->name(),
                                        [this] { serve(); }, std::move(options)));
    return Ok();
}

void DeviceServer::serve() {
    auto ran = loop_->run();
    if (!ran) {
        spdlog::error("{}: event loop: {}", device_->name(), ran.error().str());
    }
}

void DeviceServer::stop() {
    thread_.stop_and_join();
}

void DeviceServer::on_listener_ready() {
    auto accepted = accept_unix(socket_.listener.get(), false, socket_.path.c_str());
    if (!accepted) {
        spdlog::warn("{}: {}", device_->name(), accepted.error().str());
        return;
    }
    UniqueFd fd = std::move(*accepted);
    if (!fd) {
        return;
    }
    if (connection_) {
        // vhost-user has one frontend per device; a second one is turned away.
        spdlog::warn("{}: second frontend on {} refused", device_->name(), socket_.path);
        return;
    }
    auto timed = set_timeouts(fd.get());
    if (!timed) {
        spdlog::warn("{}: {}", device_->name(), timed.error().str());
        return;
    }
    auto token =
        loop_->add(fd.get(), EPOLLIN, [this](uint32_t events) { on_connection_ready(events); });
    if (!token) {
        spdlog::warn("{}: {}", device_->name(), token.error().str());
        return;
    }
    connection_ = std::move(fd);
    connection_token_ = *token;
    ++stats_.connections;
    spdlog::info("{}: frontend connected on {}", device_->name(), socket_.path);
}

void DeviceServer::drop_connection(const std::string& why) {
    spdlog::info("{}: frontend disconnected: {}", device_->name(), why);
    loop_->remove(connection_token_);
    connection_token_ = 0;
    connection_.reset();
    session_->disconnect();
    ++stats_.disconnects;
}

void DeviceServer::on_connection_ready(uint32_t) {
    auto read = vhost_user::read_message(connection_.get());
    if (!read) {
        drop_connection(read.error().str());
        return;
    }
    if (!read->has_value()) {
        drop_connection("closed by peer");
        return;
    }
    vhost_user::Message& msg = **read;
    ++stats_.requests;
    const uint32_t request = msg.header.request;
    const char* name = vhost_user::request_name(request);
    spdlog::debug("{}: {} size {} fds {}", device_->name(), name, msg.header.size, msg.fds.size());
    auto handled = session_->handle(msg);
    stats_.malformed_chains = session_->malformed_chains();
    if (!handled) {
        ++stats_.refused;
        spdlog::warn("{}: refused {}", device_->name(), handled.error().str());
        if (vhost_user::BackendSession::expects_reply(request)) {
            drop_connection(std::string(name) + " refused and it needs a reply");
            return;
        }
    }
    Result<void> sent;
    if (handled && handled->has_value()) {
        const auto& payload = **handled;
        sent = vhost_user::write_reply(connection_.get(), request, payload.data(),
                                       static_cast<uint32_t>(payload.size()));
    } else if (msg.need_reply() && session_->reply_ack_negotiated()) {
        const uint64_t status = handled ? 0 : 1;
        sent = vhost_user::write_reply(connection_.get(), request, &status, sizeof(status));
    }
    if (!sent) {
        drop_connection(sent.error().str());
    }
}

} // namespace runvm::broker
