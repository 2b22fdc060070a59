// What `runvm create` and `runvm run` hand the monitor they fork: the container's names
// and the settings its VM is built with.
#pragma once

#include <string>

#include "shim/sandbox/runtime_settings.hpp"

namespace runvm::shim {

struct MonitorOptions {
    std::string root; // --root
    std::string id;
    std::string bundle;
    std::string pid_file;           // written with this process's pid once created
    std::string console_socket;     // process.terminal: the pty master goes there
    config::RuntimeConfig settings; // file and environment; the monitor adds the annotations
    // --systemd-cgroup: linux.cgroupsPath is slice:prefix:name (host_cgroup.hpp).
    bool systemd_cgroup = false;
    // `runvm run` in the foreground: start at once and wait, in the caller's process.
    bool start_immediately = false;
    // Non-empty: this monitor boots a pooled VM of this key (vm_pool.hpp) and no container;
    // bundle, pid_file and console_socket are unused.
    std::string pool_key;
    // Receives "ok\n" once the container is created, or "error <message>\n"; then closed.
    int ready_fd = -1;
};

} // namespace runvm::shim
