#include "shim/sandbox/vm_dirs.hpp"

#include <unistd.h>

namespace runvm::shim {

std::string vm_base_dir() {
    return ::getuid() == 0 ? "/run/runvm-vm" : "/tmp/runvm-vm";
}

} // namespace runvm::shim
