// linux.maskedPaths and linux.readonlyPaths, applied after pivot_root.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent {

// A masked file gets /dev/null bound over it, a masked directory a read-only empty tmpfs;
// paths that do not exist are skipped (runc does the same).
Result<void> mask_paths(const std::vector<std::string>& paths);

// Each path is bound onto itself and remounted read-only.
Result<void> make_paths_readonly(const std::vector<std::string>& paths);

} // namespace runvm::agent
