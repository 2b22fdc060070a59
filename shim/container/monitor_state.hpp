// MonitorState: what the monitor's threads share — the sandbox, the container record and
// the lifecycle flags — behind one mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "oci/spec.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/host_cgroup.hpp"
#include "shim/sandbox/boot_timeline.hpp"
#include "shim/sandbox/sandbox.hpp"
#include "shim/sandbox/vm_sizing.hpp"

namespace runvm::shim {

// An app container of the pod whose sandbox this monitor runs (pod.hpp): it runs in this
// monitor's VM; a light process of its own stands in for its init (member_process.hpp).
struct PodMember {
    ContainerRecord record;        // guarded by MonitorState::mu
    bool start_requested = false;  // guarded by MonitorState::mu
    bool delete_requested = false; // guarded by MonitorState::mu
    // From its create's start (the add request's timeline_start_ns), when it sent one.
    std::optional<BootTimeline> timeline; // guarded by MonitorState::mu
    // A pooled VM's container: its own host cgroup, where the VM's processes moved at the
    // claim (member_process.cpp); updates set its CPU quota there. nullopt: a pod member,
    // which shares the pod VM's cgroup.
    std::optional<HostCgroup> host_cgroup; // guarded by MonitorState::mu
    // Its spec's poststart hooks, run on the host once its start is asked (as a VM's own
    // container's are): its create ran prestart and createRuntime (member_process.cpp).
    std::optional<std::vector<oci::Hook>> poststart;
    std::string oci_version;
    // A pooled VM's first container (or its CRI pod's sandbox): the VM stands for it on the
    // host as a VM of its own would (ps's host pids: the monitor, broker and hypervisor).
    bool owns_vm = false;
};

// The runtime-spec state a hook reads on its stdin: id, status, pid (the container's pid-file
// process), bundle, annotations.
std::string oci_hook_state(const ContainerRecord& record, const std::string& oci_version);

struct MonitorState {
    ContainerStore store;
    oci::Spec spec;
    std::unique_ptr<Sandbox> sandbox;
    VmShape vm; // what the VM was sized to: updates and pod members must fit in it
    // The container's cgroup on the host, which the monitor and the VM's processes joined;
    // none when runvm is not root (rootless: the host's cgroups are not ours to make).
    std::optional<HostCgroup> host_cgroup;
    uint32_t vm_overhead_mib = 0; // the host cgroup's allowance beyond guest RAM

    std::mutex mu;
    std::condition_variable cv;
    ContainerRecord record;        // guarded by mu
    bool start_requested = false;  // guarded by mu
    bool delete_requested = false; // guarded by mu
    // The sandbox container of a pod: the host side of the pod's share, where members'
    // rootfs and bind sources go. Empty for any other container.
    std::string pod_share_dir;
    // The sandbox container's init in the guest, whose ipc/uts/pid namespaces members join.
    uint32_t pod_guest_pid = 0;                                // guarded by mu
    std::map<std::string, std::shared_ptr<PodMember>> members; // guarded by mu
    uint32_t members_added = 0; // guarded by mu: add_container requests taken, ever
    bool closing = false;       // guarded by mu: the VM goes down, members end
    std::atomic<uint32_t> next_port{0x10000};
    std::atomic<uint32_t> next_exec{1};

    explicit MonitorState(std::string root) : store(std::move(root)) {}

    // Saves the record (callers hold mu).
    void save_locked();
    // runtime-spec state JSON for hooks: ociVersion, id, status, pid, bundle, annotations.
    std::string hook_state_locked() const;
};

// Serves one control connection until it closes; runs in its own thread.
void serve_control_connection(MonitorState& state, ControlChannel channel);

// {"op":"add_container"} from a member's process (pod_members.cpp): mounts its files into
// the pod's share, creates it in the VM, replies {"pid"}, then, on the same connection,
// {"exit_status"} once it ended and its mounts are gone.
void serve_add_container(MonitorState& state, ControlChannel& channel, ControlMessage message);

// Runs one exec in `container` to its end on `channel` (monitor_control.cpp).
void serve_exec(MonitorState& state, ControlChannel& channel, const nlohmann::json& request,
                std::vector<UniqueFd> fds);

} // namespace runvm::shim
