// The runtime's verbs as library calls: what each `runvm <verb>` does, so the CLI files stay
// thin and tests can drive the same paths.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/monitor_options.hpp"

namespace runvm::shim {

// Takes the id: creates its state directory (EEXIST when another container has it). The one
// atomic step two creates of the same id race on; whoever loses must touch nothing more.
Result<void> claim_container_id(const std::string& root, const std::string& id);

// Claims the id, forks the monitor (detached into its own session) and waits until it
// reports the container created or failed. Returns the monitor's pid.
Result<pid_t> create_container(const MonitorOptions& options);

// runc's `state` JSON: ociVersion, id, pid, status, bundle, rootfs, created, owner,
// annotations (plus runvm's own "runvm" object: hypervisor, guest kernel, boot timeline).
Result<nlohmann::json> container_state(const std::string& root, const std::string& id);

Result<void> start_container(const std::string& root, const std::string& id);
Result<void> kill_container(const std::string& root, const std::string& id, int signal, bool all);
// Stops the VM when needed (force), runs the poststop hooks, removes the state.
Result<void> delete_container(const std::string& root, const std::string& id, bool force);

// Where a container's control requests go: its own monitor's socket, or, for a pod member,
// its pod monitor's (requests then name the container: "container").
std::string control_socket_of(const ContainerStore& store, const ContainerRecord& record);
Result<std::string> control_socket_of(const std::string& root, const std::string& id);

// One control request to a live container's monitor ({"op": ...}); "container" is added.
Result<nlohmann::json> monitor_request(const std::string& root, const std::string& id,
                                       const nlohmann::json& request);

struct ExecOptions {
    std::string root;
    std::string id;
    nlohmann::json process; // runtime-spec Process
    bool tty = false;
    std::string console_socket;
    bool detach = false;
    std::string pid_file;
};

// Runs a process in the container. Attached: returns its exit status. Detached: returns 0
// once it started; a child of the caller (the pid in pid_file) waits for it and exits
// with its status.
Result<int> exec_in_container(const ExecOptions& options);

// The container's config.json process with runc exec's overrides applied.
Result<nlohmann::json> exec_process_from_bundle(const std::string& root, const std::string& id);

// "KILL", "SIGKILL", "9" -> 9.
Result<int> parse_signal(const std::string& text);

// Whether `pid` names a live (not zombie) process.
bool process_alive(int pid);

} // namespace runvm::shim
