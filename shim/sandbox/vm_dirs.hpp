// Where runvm's run directories live: the state root's default (runc's rule) and the per-VM
// directories, apart from any container's state directory: a VM's logs, sockets and RAM
// file outlive no container, but the last failed start's logs do.
#pragma once

#include <string>

#include <sys/types.h>

#include "base/result.hpp"

namespace runvm::shim {

// --root when none is given: /run/runvm for root; $XDG_RUNTIME_DIR/runvm for anyone else
// (runc: $XDG_RUNTIME_DIR/runc), an error naming XDG_RUNTIME_DIR when it is unset or not
// absolute. `xdg_runtime_dir` is the variable's value, null when unset.
Result<std::string> default_state_root(uid_t euid, const char* xdg_runtime_dir);

// /run/runvm-vm as root; $XDG_RUNTIME_DIR/runvm-vm otherwise, /tmp/runvm-vm-<euid> without it
// (an explicit --root): each is made 0711 and checked by open_owned_dir, so a name planted
// by another user is refused rather than used.
std::string vm_base_dir();

} // namespace runvm::shim
