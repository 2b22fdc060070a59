// ControlChannel: the monitor's control protocol, one JSON object per line over a Unix
// stream socket, with fds (a process's stdio) attached by SCM_RIGHTS to a request.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

struct ControlMessage {
    nlohmann::json body;
    std::vector<UniqueFd> fds;
};

class ControlChannel {
public:
    explicit ControlChannel(UniqueFd fd) : fd_(std::move(fd)) {}

    // Connects to a monitor's socket (bounded by `timeout`).
    static Result<ControlChannel> connect(const std::string& path,
                                          std::chrono::milliseconds timeout);

    Result<void> send(const nlohmann::json& body, const std::vector<int>& fds = {});
    // Waits up to `timeout` (0: no limit) for one message; a closed peer is ECONNRESET.
    Result<ControlMessage> receive(std::chrono::milliseconds timeout);

    int fd() const { return fd_.get(); }
    // A whole message is buffered already: receive() returns it without reading the socket.
    bool has_message() const { return buffer_.find('\n') != std::string::npos; }

private:
    UniqueFd fd_;
    std::string buffer_;
    std::vector<UniqueFd> pending_fds_;
};

// Sends `request`, waits for one reply; a reply {"error": "..."} becomes an Error.
Result<nlohmann::json> control_call(const std::string& socket, const nlohmann::json& request,
                                    std::chrono::milliseconds timeout);

inline constexpr size_t kMaxControlMessage = 1 << 20;
// A pod member's add_container carries the most: 3 stdio fds, its rootfs and up to 64 bind
// sources (pod.hpp).
inline constexpr size_t kMaxControlFds = 3 + 1 + 64;

} // namespace runvm::shim
