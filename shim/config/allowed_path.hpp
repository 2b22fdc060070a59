// Where a path from a pod spec may point: inside a directory the operator allowed, reached
// without a symlink, "..", or /proc magic link leading out of it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace runvm::config {

// `path` (absolute) must name a regular file under one of `allowed` (absolute directories).
// Returns the file's path with every symlink resolved, which is what the VM is given. The
// error says which rule `path` broke; the caller names the annotation.
Result<std::string> resolve_allowed_path(std::string_view path,
                                         std::span<const std::string> allowed);

} // namespace runvm::config
