// The per-container monitor: the process `runvm create` leaves behind (its pid is the
// --pid-file pid). It owns the sandbox VM, bridges the container's stdio, serves the other
// verbs on <state dir>/monitor.sock, and exits with the container's exit status.
#pragma once

#include <string>

#include "shim/container/monitor_options.hpp"

namespace runvm::shim {

// Runs the container to its end; returns its exit status (128+signal when killed), or
// 255 when it could not be created. The caller has claimed the id (claim_container_id):
// a failed create removes its state. The create error goes to ready_fd, else to
// *create_error when given, else to the log: it is printed once, by whoever prints it.
int run_monitor(const MonitorOptions& options, std::string* create_error = nullptr);

} // namespace runvm::shim
