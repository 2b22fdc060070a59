// What the agent tracks per container and per process: launch handles, stdio, cgroup,
// exit statuses (one watcher thread per process turns the reaper's record into state).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/owned_thread.hpp"
#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/launcher.hpp"
#include "guest_agent/pid1/reaper.hpp"
#include "guest_agent/service/stdio_transport.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

class ProcessState {
public:
    explicit ProcessState(std::string exec_id) : exec_id_(std::move(exec_id)) {}
    ~ProcessState(); // joins the watcher
    ProcessState(const ProcessState&) = delete;
    ProcessState& operator=(const ProcessState&) = delete;

    const std::string& exec_id() const { return exec_id_; }

    // Set once created (before watch()): the launch handle and its stdio relay (pipes) or,
    // with a terminal, its pty relay.
    std::mutex mu;
    std::optional<ContainerProcess> launch; // until started
    pid_t pid = -1;
    std::unique_ptr<StdioRelay> stdio;
    std::unique_ptr<PtyRelay> relay;

    // Starts the watcher that records the exit of `pid` (from the reaper), once the output
    // the process left in its stdio pipes has reached the host (as the streams themselves
    // had it when they were the process's fds).
    void watch(Reaper& reaper);
    // The exit record once the process exited; waits up to `timeout` (negative: forever).
    std::optional<ExitRecord> wait_exit(std::chrono::milliseconds timeout);
    bool exited();

private:
    std::string exec_id_;
    std::condition_variable exited_cv_;
    std::optional<ExitRecord> exit_;
    std::atomic<bool> stop_{false};
    OwnedThread watcher_;
};

enum class ContainerStatus { created, running, paused, stopped };

struct ContainerState {
    std::string id;
    oci::Spec spec;
    std::string rootfs;         // the directory the container's root is made from
    std::string mounted_rootfs; // a block device mounted by the agent (unmounted on remove)
    std::optional<Cgroup> cgroup;
    std::shared_ptr<ProcessState> init;
    std::map<std::string, std::shared_ptr<ProcessState>> execs;
    bool paused = false;

    ContainerStatus status() const;
    std::shared_ptr<ProcessState> find(const std::string& exec_id) const;
};

} // namespace runvm::agent
