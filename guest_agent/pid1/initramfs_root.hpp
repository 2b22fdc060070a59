// Moving PID 1 off the initramfs root onto a tmpfs, as switch_root does, without a shell.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace runvm::agent {

// True when a filesystem of type `f_type` (statfs) at "/" is, at PID 1's start, the kernel's
// initial rootfs, which pivot_root(2) refuses to leave: the launcher pivot_roots into every
// container, so PID 1 must first stand on a real mount. Before PID 1 runs only the kernel
// has mounted "/", and it mounts ramfs or tmpfs there only as the initramfs.
bool initial_root_is_initramfs(int64_t f_type);

// Mounts a tmpfs at `new_root`, gives it the directories PID 1 mounts on, moves it onto "/"
// and chroots into it. The initramfs files stay below, unreachable (the agent's own pages are
// mapped from there).
Result<void> switch_to_tmpfs_root(const std::string& new_root);

// Switches when "/" is the initramfs (statfs: no /proc needed, a few ms less under TCG than
// mounting /proc to read mountinfo).
Result<void> leave_initramfs_root(const std::string& new_root = "/newroot");

} // namespace runvm::agent
