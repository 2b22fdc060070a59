// Where the per-VM directories live, apart from any container's state directory: a VM's
// logs, sockets and RAM file outlive no container, but the last failed start's logs do.
#pragma once

#include <string>

namespace runvm::shim {

// /run/runvm-vm as root, /tmp/runvm-vm otherwise.
std::string vm_base_dir();

} // namespace runvm::shim
