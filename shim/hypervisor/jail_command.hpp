// How a hypervisor backend runs its program through runvm-jail (jail/, docs/security.md
// "Jail"): the jailer's path, the jail every hypervisor shares, the program's absolute path.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "jail/jail_spec.hpp"
#include "shim/hypervisor/vm_config.hpp"

namespace runvm::shim {

// runvm-jail beside this executable, in the build tree's jail/, else the bare name (PATH):
// found as config::find_helper finds runvm-broker.
std::string jail_program();

// `name` as an absolute path: itself when it has a slash, else the first executable of that
// name on $PATH (the jailer searches nothing). An error names the program.
Result<std::string> absolute_program(const std::string& name);

// What every jailed hypervisor gets: config.jail_root, settings.jail_user, the kernel and
// initramfs read-only, config.jail_dir read-write, /dev/null and /dev/urandom, /proc (for
// the /proc/self/fd/N paths of the fds handed to it), and `program` (absolute) to run. An
// error when the sandbox gave no jail directories.
Result<jail::JailSpec> hypervisor_jail(const VmConfig& config, std::vector<std::string> program);

} // namespace runvm::shim
