// The per-container monitor: the process `runvm create` leaves behind (its pid is the
// --pid-file pid). It owns the sandbox VM, bridges the container's stdio, serves the other
// verbs on <state dir>/monitor.sock, and exits with the container's exit status.
#pragma once

#include <string>

#include "shim/sandbox/runtime_settings.hpp"

namespace runvm::shim {

struct MonitorOptions {
    std::string root; // --root
    std::string id;
    std::string bundle;
    std::string pid_file;       // written with this process's pid once created
    std::string console_socket; // process.terminal: the pty master goes there
    RuntimeSettings settings;
    // `runvm run` in the foreground: start at once and wait, in the caller's process.
    bool start_immediately = false;
    // Receives "ok\n" once the container is created, or "error <message>\n"; then closed.
    int ready_fd = -1;
};

// Runs the container to its end; returns its exit status (128+signal when killed), or
// 255 when it could not be created. The caller has claimed the id (claim_container_id):
// a failed create removes its state. The create error goes to ready_fd, else to
// *create_error when given, else to the log: it is printed once, by whoever prints it.
int run_monitor(const MonitorOptions& options, std::string* create_error = nullptr);

} // namespace runvm::shim
