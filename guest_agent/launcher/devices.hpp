// /dev inside the container: runc's default devices, the spec's devices, /dev/ptmx and the
// /proc/self/fd symlinks.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// The six devices every container gets (null, zero, full, random, urandom, tty).
std::vector<oci::Device> default_devices();

// Creates `devices` (defaults first, then the spec's) under rootfs/dev: mknod, or a bind
// mount of the host node when `in_user_namespace` (mknod is not allowed there).
Result<void> create_devices(const std::string& rootfs, const std::vector<oci::Device>& devices,
                            bool in_user_namespace);

// /dev/ptmx -> pts/ptmx, /dev/fd -> /proc/self/fd, stdin/stdout/stderr, core.
Result<void> create_dev_symlinks(const std::string& rootfs);

// False only when the spec bind-mounts something onto /dev (runc leaves that /dev as it is).
bool needs_dev_setup(const oci::Spec& spec);

} // namespace runvm::agent
