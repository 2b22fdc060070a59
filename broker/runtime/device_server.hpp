// DeviceServer: one device on its own vhost-user socket and thread: accepts one frontend at
// a time, feeds its requests to a BackendSession, and runs the device's event loop.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/owned_thread.hpp"
#include "base/unique_fd.hpp"
#include "broker/devices/device.hpp"
#include "broker/runtime/event_loop.hpp"
#include "broker/vhost_user/backend_session.hpp"

namespace runvm::broker {

struct DeviceServerStats {
    std::atomic<uint64_t> connections{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> refused{0};     // requests refused, connection kept
    std::atomic<uint64_t> disconnects{0}; // connections dropped (peer or protocol error)
    std::atomic<uint64_t> malformed_chains{0};
};

// A listening vhost-user socket and an O_PATH fd of its directory: the file is removed
// through that fd, so also after the broker has left the host's mount namespace.
struct VhostUserSocket {
    static Result<VhostUserSocket> listen(const std::string& path);

    std::string path;
    UniqueFd listener;
    UniqueFd dir;
    std::string name; // the last component of path
};

class DeviceServer {
public:
    // Binds the socket, creates the loop and attaches the device; nothing runs yet.
    static Result<std::unique_ptr<DeviceServer>> create(std::unique_ptr<Device> device,
                                                        std::string socket_path);
    // The same with a socket bound earlier (before the broker entered its namespace).
    static Result<std::unique_ptr<DeviceServer>> create(std::unique_ptr<Device> device,
                                                        VhostUserSocket socket);
    ~DeviceServer();
    DeviceServer(const DeviceServer&) = delete;
    DeviceServer& operator=(const DeviceServer&) = delete;

    Result<void> start();
    // Stops and joins the thread; idempotent. The socket file is removed on destruction.
    void stop();

    const std::string& socket_path() const { return socket_.path; }
    const DeviceServerStats& stats() const { return stats_; }
    Device& device() { return *device_; }

private:
    DeviceServer(std::unique_ptr<Device> device, VhostUserSocket socket,
                 std::unique_ptr<EventLoop> loop);

    void on_listener_ready();
    void on_connection_ready(uint32_t events);
    void drop_connection(const std::string& why);
    void serve();

    std::unique_ptr<Device> device_;
    VhostUserSocket socket_;
    std::unique_ptr<EventLoop> loop_;
    std::unique_ptr<vhost_user::BackendSession> session_;
    UniqueFd connection_;
    EventLoop::Token connection_token_ = 0;
    OwnedThread thread_; // runs serve(); stopped through the loop's wake eventfd
    DeviceServerStats stats_;
};

} // namespace runvm::broker
