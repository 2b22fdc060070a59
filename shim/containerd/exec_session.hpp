// ExecSession: one exec process in a running container, asked of the container's monitor
// over its control socket (the monitor bridges the fds to the guest and reports the exit).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "shim/container/control_channel.hpp"

namespace runvm::containerd {

class ExecSession {
public:
    // Sends the exec request with `stdio` (stdin, stdout, stderr; or only the pty slave
    // when `tty`) and waits for the monitor to report the guest pid.
    static Result<std::unique_ptr<ExecSession>> start(const std::string& control_socket,
                                                      const std::string& container_id,
                                                      const nlohmann::json& process, bool tty,
                                                      const std::vector<int>& stdio);
    ~ExecSession(); // joins the waiter

    ExecSession(const ExecSession&) = delete;
    ExecSession& operator=(const ExecSession&) = delete;

    uint32_t pid() const { return pid_; }
    // The monitor's name for this exec (the agent's exec id), for signals.
    const std::string& monitor_exec_id() const { return monitor_exec_id_; }

    // Waits on a thread for the exit report; `on_exit` gets the status (255 when the
    // monitor went away without one: the VM is gone).
    void wait_async(std::function<void(int)> on_exit);

private:
    explicit ExecSession(shim::ControlChannel channel) : channel_(std::move(channel)) {}

    shim::ControlChannel channel_;
    uint32_t pid_ = 0;
    std::string monitor_exec_id_;
    OwnedThread waiter_;
};

} // namespace runvm::containerd
