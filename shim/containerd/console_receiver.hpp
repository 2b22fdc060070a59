// ConsoleReceiver: the --console-socket end (runc's protocol): a Unix socket in a private
// directory that receives the container's pty master by SCM_RIGHTS.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::containerd {

class ConsoleReceiver {
public:
    static Result<std::unique_ptr<ConsoleReceiver>> listen(const std::string& label);
    ~ConsoleReceiver(); // removes the socket and its directory
    ConsoleReceiver(const ConsoleReceiver&) = delete;
    ConsoleReceiver& operator=(const ConsoleReceiver&) = delete;

    const std::string& path() const { return path_; }
    // Accepts one connection and takes the fd it carries (bounded by `timeout`).
    Result<UniqueFd> receive(std::chrono::milliseconds timeout);

private:
    ConsoleReceiver() = default;
    std::string dir_;
    std::string path_;
    UniqueFd listener_;
};

} // namespace runvm::containerd
