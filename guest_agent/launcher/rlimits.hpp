// process.rlimits and process.oomScoreAdj.
#pragma once

#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; unknown names are an error.
Result<int> rlimit_from_name(const std::string& name);

Result<void> apply_rlimits(const std::vector<oci::Rlimit>& limits);

Result<void> apply_oom_score_adj(int value);

} // namespace runvm::agent
