// The forked side of the launcher: the intermediate process that enters the namespaces and
// forks the container's init, and that init's setup up to exec. Neither returns.
#pragma once

#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/launcher/sync_channel.hpp"

namespace runvm::agent {

// Joins the cgroup and namespaces, unshares the new ones (asking the launcher for id maps
// when a user namespace is made), forks the init (so a new pid namespace applies to it),
// reports its pid and exits.
[[noreturn]] void run_intermediate(const LaunchPlan& plan, const SyncChannel& sync);

// Container init: rootfs, mounts, hooks, devices, pivot_root, pty, identity, masked paths,
// process setup; reports "created", waits for "start", runs startContainer hooks, execs.
[[noreturn]] void run_container_init(const LaunchPlan& plan, const SyncChannel& sync);

} // namespace runvm::agent
