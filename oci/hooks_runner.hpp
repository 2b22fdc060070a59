// OCI hooks (runtime-spec config.md "POSIX-platform Hooks"), one runner for the host's
// (prestart, createRuntime, poststart, poststop) and the guest's (createContainer,
// startContainer): each hook gets the state JSON on stdin and is killed at its timeout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::oci {

// A hook without a timeout of its own gets this many seconds.
inline constexpr int kDefaultHookTimeoutS = 60;

// The runtime-spec state object, for hooks: ociVersion, id, status, pid, bundle.
std::string hook_state_json(const std::string& id, const std::string& status, int pid,
                            const std::string& bundle);

// Runs `hooks` in order; the first failure stops the rest and is returned, naming the
// hook's kind, index and path: "createRuntime hook 0 (/bin/false) failed: exit status 1".
Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s = kDefaultHookTimeoutS);
Result<void> run_hooks(const std::optional<std::vector<Hook>>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s = kDefaultHookTimeoutS);

// What a create runs once the container exists and before its process starts, in the
// runtime's namespace: prestart, then createRuntime (the first failure ends it).
Result<void> run_create_hooks(const std::optional<Hooks>& hooks, const std::string& state_json);

} // namespace runvm::oci
