// The container's root: mount propagation, rootfs bind, pivot_root, read-only root.
#pragma once

#include <optional>
#include <string>

#include "base/result.hpp"

namespace runvm::agent {

// Makes "/" rslave (or `propagation`, linux.rootfsPropagation) so nothing mounted here
// reaches the launcher's namespace, then binds `rootfs` onto itself so it is a mount point.
Result<void> prepare_rootfs(const std::string& rootfs,
                            const std::optional<std::string>& propagation);

// pivot_root(".", ".") inside `rootfs`, then detaches the old root (runc's approach: no
// directory for the old root needed in the image).
Result<void> pivot_into(const std::string& rootfs);

// After pivot: applies rootfsPropagation to "/" again when it was given.
Result<void> apply_root_propagation(const std::optional<std::string>& propagation);

} // namespace runvm::agent
