// MonitorState: what the monitor's threads share — the sandbox, the container record and
// the lifecycle flags — behind one mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "oci/spec.hpp"
#include "shim/sandbox/container_store.hpp"
#include "shim/sandbox/control_channel.hpp"
#include "shim/sandbox/sandbox.hpp"

namespace runvm::shim {

struct MonitorState {
    ContainerStore store;
    oci::Spec spec;
    std::unique_ptr<Sandbox> sandbox;

    std::mutex mu;
    std::condition_variable cv;
    ContainerRecord record;        // guarded by mu
    bool start_requested = false;  // guarded by mu
    bool delete_requested = false; // guarded by mu
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

} // namespace runvm::shim
