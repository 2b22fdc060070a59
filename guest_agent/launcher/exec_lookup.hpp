// Finds the container's args[0] the way Go's exec.LookPath does for runc, with its messages.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent {

// `path_env` is the value of PATH in the process env (empty: none). Error messages match
// runc: exec: "foo": executable file not found in $PATH.
Result<std::string> look_path(const std::string& name, const std::string& path_env);

// The value of `key` in a KEY=VALUE list, empty when absent.
std::string env_value(const std::vector<std::string>& env, const std::string& key);

} // namespace runvm::agent
