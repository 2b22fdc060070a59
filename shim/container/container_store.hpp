// ContainerStore: one directory per container under --root (runc's layout idea): the
// record the monitor keeps current, the monitor's control socket, and a lock file. The root
// and each container's directory are the euid's own (open_owned_dir) before they are used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/process_handle.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "shim/sandbox/vm_dirs.hpp"

namespace runvm::shim {

// What `runvm state` reports plus what the other verbs need to find the VM.
struct ContainerRecord {
    std::string id;
    std::string bundle;
    std::string rootfs;
    std::string created; // RFC 3339, UTC
    std::string status;  // creating, created, running, paused, stopped
    int monitor_pid = 0; // the --pid-file process (see docs/cli.md)
    // ProcessHandle::start_time of monitor_pid: tells the monitor from a later process that
    // reused its pid.
    uint64_t monitor_start_time = 0;
    std::optional<int> exit_status;
    std::string error;       // why it stopped, when not by its own exit
    bool oom_killed = false; // the agent saw an OOM kill in its cgroup (containerd's TaskOOM)
    std::map<std::string, std::string> annotations;
    std::string run_dir;
    std::string hypervisor;
    std::string guest_kernel;
    nlohmann::json timeline = nlohmann::json::array();
    uint32_t owner_uid = 0;
    // A pod member (pod.hpp): the pod's sandbox container, whose monitor runs it; its own
    // monitor_pid is the light process that stands in for its init.
    std::string pod_sandbox;
    // The host cgroup directories the monitor made (host_cgroup.hpp), for a delete --force
    // of a monitor that died before it removed them.
    std::vector<std::string> host_cgroups;

    // Records the calling process as the monitor, with its start time.
    Result<void> set_monitor_to_self();
    // The recorded monitor while it runs; ESRCH naming the pid once it exited or its pid is
    // another process's. Every signal to the monitor goes through this handle.
    Result<ProcessHandle> monitor() const;

    nlohmann::json to_json() const;
    static Result<ContainerRecord> from_json(const nlohmann::json& j);
};

// runc's rule: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes.
Result<void> validate_container_id(const std::string& id);

class ContainerStore {
public:
    explicit ContainerStore(std::string root) : root_(std::move(root)) {}

    const std::string& root() const { return root_; }
    std::string dir(const std::string& id) const { return root_ + "/" + id; }
    // A short per-VM directory for sockets (sun_path holds 107 bytes; ids can be 64).
    std::string run_dir(const std::string& id) const;
    // In run_dir, not dir: Docker's root and a 64-character id alone pass 107 bytes.
    std::string control_socket(const std::string& id) const {
        return run_dir(id) + "/monitor.sock";
    }

    // Creates the container's directory; fails with EEXIST when the id is taken.
    Result<void> create_dir(const std::string& id);
    Result<void> save(const ContainerRecord& record);
    Result<ContainerRecord> load(const std::string& id) const;
    Result<std::vector<std::string>> list() const;
    // Removes the container's directory and everything in it.
    Result<void> remove(const std::string& id);

    // flock on <dir>/lock: verbs that change a container hold it (create, delete).
    Result<UniqueFd> lock(const std::string& id) const;

private:
    // The root and the container's directory checked; ENOENT "does not exist" when missing.
    Result<UniqueFd> open_dir(const std::string& id) const;

    std::string root_;
};

// The record's status with the monitor's liveness applied: a record whose monitor is gone
// is stopped.
std::string effective_status(const ContainerRecord& record);

std::string rfc3339_now();

} // namespace runvm::shim
