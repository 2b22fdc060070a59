// ContainerProcess: the launcher's handle on one container init between create and exit:
// create (set up, waiting), start (exec), signal, and cleanup of a failed create.
#pragma once

#include <chrono>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/launcher/exec_init.hpp"
#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/launcher/sync_channel.hpp"
#include "guest_agent/pid1/reaper.hpp"

namespace runvm::agent {

// Failures of create/start carry the step that failed in the child.
struct LaunchError {
    std::string step; // "mount", "exec", ... ; "launcher" for the parent's own steps
    Error error;
    int exit_code = 1; // what a runc-like CLI exits with: 127 for a missing binary
};

class ContainerProcess {
public:
    // Forks the container's init and waits (up to `timeout`) until it is set up and waiting
    // for start. On failure nothing is left: the init is killed and reaped, and its mount
    // namespace with it. `reaper` must be running (this process is a subreaper or PID 1).
    static Result<ContainerProcess> create(const LaunchPlan& plan, Reaper& reaper,
                                           std::chrono::milliseconds timeout);

    // The same handshake for a process exec'd into the running container of `plan`.
    static Result<ContainerProcess> create_exec(const ExecPlan& plan, Reaper& reaper,
                                                std::chrono::milliseconds timeout);

    ContainerProcess(ContainerProcess&&) noexcept = default;
    ContainerProcess& operator=(ContainerProcess&&) noexcept = default;
    ~ContainerProcess();

    // Lets the init exec the process; returns once exec happened (or the error if not).
    Result<void> start(std::chrono::milliseconds timeout);

    pid_t pid() const { return pid_; }
    // The pty master when process.terminal is set (invalid otherwise); taken once.
    UniqueFd take_console() { return std::move(console_); }
    // The step of the last failure, when create/start failed in the child.
    static LaunchError describe(const Error& e);

private:
    ContainerProcess() = default;
    // Forks `child_main` (which never returns) and runs the parent side of the handshake;
    // `id_maps` answers a user namespace's request for maps.
    template <typename ChildMain, typename IdMaps>
    static Result<ContainerProcess> launch(const std::string& what, ChildMain&& child_main,
                                           IdMaps&& id_maps, Reaper& reaper,
                                           std::chrono::milliseconds timeout);
    SyncChannel sync_;
    pid_t pid_ = -1;
    UniqueFd console_;
    bool started_ = false;
};

} // namespace runvm::agent
