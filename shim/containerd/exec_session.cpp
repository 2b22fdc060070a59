// The monitor's exec protocol: {"op":"exec",...} with fds, then {"pid"}, then {"exit_status"}.
#include "shim/containerd/exec_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace runvm::containerd {

using namespace std::chrono_literals;

Result<std::unique_ptr<ExecSession>> ExecSession::start(const std::string& control_socket,
                                                        const std::string& container_id,
                                                        const nlohmann::json& process, bool tty,
                                                        const std::vector<int>& stdio) {
    RUNVM_ASSIGN_OR_RETURN(auto channel, shim::ControlChannel::connect(control_socket, 10s));
    std::unique_ptr<ExecSession> s(new ExecSession(std::move(channel)));
    nlohmann::json req = {
        {"op", "exec"}, {"process", process}, {"tty", tty}, {"container", container_id}};
    req["process"]["terminal"] = tty;
    req["stdio"] =
        tty ? std::vector<bool>{true, false, false} : std::vector<bool>{true, true, true};
    RUNVM_TRY(s->channel_.send(req, stdio));
    RUNVM_ASSIGN_OR_RETURN(auto started, s->channel_.receive(60s));
    if (started.body.contains("error")) {
        return Err(Error::msg(started.body["error"].get<std::string>()));
    }
    s->pid_ = started.body.value("pid", 0u);
    s->monitor_exec_id_ = started.body.value("exec_id", "");
    return s;
}

ExecSession::~ExecSession() {
    if (waiter_.joinable()) {
        // The channel's fd closes with us; shutting it down first ends the blocked receive.
        ::shutdown(channel_.fd(), SHUT_RDWR);
        waiter_.stop_and_join();
    }
}

void ExecSession::wait_async(std::function<void(int)> on_exit) {
    waiter_ = OwnedThread("exec waiter", [this, on_exit = std::move(on_exit)] {
        // No deadline: an exec runs as long as it likes; the monitor's exit closes the socket.
        auto done = channel_.receive(0ms);
        int status = 255;
        if (!done) {
            spdlog::debug("exec {}: {}", pid_, done.error().str());
        } else if (done->body.contains("error")) {
            spdlog::warn("exec {}: {}", pid_, done->body["error"].get<std::string>());
        } else {
            status = done->body.value("exit_status", 255);
        }
        on_exit(status);
    });
}

} // namespace runvm::containerd
