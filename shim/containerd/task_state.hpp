// What the shim knows of its tasks: one TaskContainer per container (its init process and
// its execs), guarded by TaskService's mutex.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "shim/containerd/exec_session.hpp"
#include "shim/containerd/process_io.hpp"

namespace runvm::containerd {

enum class ProcessState { creating, created, running, paused, stopped };

struct TaskProcess {
    std::string container_id;
    std::string exec_id; // empty: the container's init process
    IoPaths io_paths;
    std::unique_ptr<ProcessIo> io;
    ProcessState state = ProcessState::creating;
    uint32_t pid = 0; // init: the monitor's host pid; exec: the guest pid
    int exit_status = 0;
    bool oom_killed = false; // init: the guest saw an OOM kill in the container's cgroup
    std::chrono::system_clock::time_point exited_at{};
    nlohmann::json exec_spec;             // exec: the runtime-spec Process
    std::unique_ptr<ExecSession> session; // exec: the monitor connection
    bool starting = false;                // a Start is between request and TaskStart event
    bool pending_exit = false;            // exited during Start: publish after TaskStart
};

struct TaskContainer {
    std::string id;
    std::string bundle;
    bool rootfs_mounted = false;
    std::shared_ptr<TaskProcess> init;
    std::map<std::string, std::shared_ptr<TaskProcess>> execs;
};

} // namespace runvm::containerd
