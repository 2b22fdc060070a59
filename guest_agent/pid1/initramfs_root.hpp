// Moving PID 1 off the initramfs root onto a tmpfs, as switch_root does, without a shell.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::agent {

// True when "/" is the kernel's initial rootfs, which pivot_root(2) refuses to leave: the
// launcher pivot_roots into every container, so PID 1 must first stand on a real mount.
bool mountinfo_root_is_rootfs(const std::string& mountinfo);

// Mounts a tmpfs at `new_root`, gives it the directories PID 1 mounts on, moves it onto "/"
// and chroots into it. The initramfs files stay below, unreachable (the agent's own pages are
// mapped from there).
Result<void> switch_to_tmpfs_root(const std::string& new_root);

// Reads /proc/self/mountinfo (mounting /proc for the moment) and switches when "/" is rootfs.
Result<void> leave_initramfs_root(const std::string& new_root = "/newroot");

} // namespace runvm::agent
