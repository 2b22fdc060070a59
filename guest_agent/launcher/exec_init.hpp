// A process exec'd into a running container (ExecProcess): joins the init's namespaces and
// cgroup, then applies its own process settings like the init did.
#pragma once

#include <sys/types.h>

#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/launcher/sync_channel.hpp"

namespace runvm::agent {

struct ExecPlan {
    pid_t init_pid = -1;    // the container's init, whose namespaces are joined
    std::string cgroup_dir; // joined first, empty: none
    ProcessPlan process;
    StdioFds stdio;
};

// Joins, forks (so the pid namespace applies), reports the pid and exits; the child sets up
// (pty, process settings), reports created, waits for start and execs.
[[noreturn]] void run_exec_intermediate(const ExecPlan& plan, const SyncChannel& sync);

} // namespace runvm::agent
