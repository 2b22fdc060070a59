// OCI hooks: each runs with the container state JSON on stdin, within its timeout.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// The runtime-spec state object, for hooks: ociVersion, id, status, pid, bundle.
std::string hook_state_json(const std::string& id, const std::string& status, int pid,
                            const std::string& bundle);

// Runs `hooks` in order; the first failure (exit status, signal, timeout) is the error and
// names the hook: "createContainer hook /bin/x: exit status 3".
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                       const char* kind);

} // namespace runvm::agent
