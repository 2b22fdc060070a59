// The spec's mounts[] inside the new mount namespace, before pivot_root, as runc does them.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// Mounts every entry of `mounts` under `rootfs`. Errors name the destination.
Result<void> mount_spec_mounts(const std::string& rootfs, const std::vector<oci::Mount>& mounts);

// After pivot_root: read-only tmpfs mounts (and /dev) were mounted writable so files could
// be made in them; this makes them read-only as asked.
Result<void> finalize_readonly_mounts(const std::vector<oci::Mount>& mounts);

// Remounts `path` (a mount point) read-only, keeping its nosuid/nodev/noexec.
Result<void> remount_readonly(const std::string& path);

} // namespace runvm::agent
