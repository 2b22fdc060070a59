// run_bundle: `runc run` in host mode: create, start and wait for one bundle's container,
// with the caller's stdio (or a pty proxied to it). Used by runvm-launch and the
// differential tests.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::agent {

struct RunBundleOptions {
    std::string bundle = ".";
    std::string id;
    std::string cgroup_parent = "runvm"; // under the cgroup2 mount, when there is one
    std::string pid_file;
};

// The container's exit status (128+n when killed by signal n), or for a failed create the
// exit code a runc-like CLI gives (127 for a missing binary, 1 otherwise) after printing
// the error to stderr.
int run_bundle(const RunBundleOptions& options);

} // namespace runvm::agent
