// OCI hooks run on the host (runtime-spec config.md "POSIX-platform Hooks"): each gets the
// container's state JSON on stdin and is killed when its timeout passes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::shim {

// Runs `hooks` in order; the first failure stops the rest and is returned, naming the
// hook's kind, index and path. A hook without a timeout gets `default_timeout_s`.
Result<void> run_hooks(const std::optional<std::vector<oci::Hook>>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s = 60);

} // namespace runvm::shim
