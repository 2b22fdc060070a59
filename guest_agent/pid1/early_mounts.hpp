// PID 1's file systems: /proc, /sys, /dev, /dev/pts, /sys/fs/cgroup (cgroup2), /run, /tmp.
#pragma once

#include "base/result.hpp"

namespace runvm::agent {

// Mounts each one unless something is mounted there already (the kernel's devtmpfs
// automount, an initramfs that did it). Stops at the first failure, naming it.
Result<void> mount_early_filesystems();

} // namespace runvm::agent
