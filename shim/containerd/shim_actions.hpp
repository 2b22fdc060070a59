// The shim binary's three modes: `start` (containerd asks for a shim and gets its address),
// `delete` (containerd cleans up after a shim that is gone), and the daemon that serves the
// task API.
#pragma once

#include <string>

#include "shim/containerd/shim_flags.hpp"

namespace runvm::containerd {

int run_start(const ShimFlags& flags);
int run_delete(const ShimFlags& flags);
int run_daemon(const ShimFlags& flags);

// runvm's --root for a namespace: $RUNVM_SHIM_ROOT/<ns>, default /run/containerd/runvm/<ns>
// (beside containerd's runc shim's /run/containerd/runc/<ns>).
std::string runvm_root_for(const std::string& ns);
// The runvm CLI: $RUNVM_CLI, else beside this binary, in the build tree, or on PATH.
std::string runvm_binary();
// The annotations that put containers in one shim (containerd's runc shim's groupLabels,
// plus ours), read from the bundle's config.json in `bundle_dir`; the id when none is set.
std::string shim_group(const std::string& bundle_dir, const std::string& id);

} // namespace runvm::containerd
