// The state root's default and the per-VM base directory, by effective uid.
#include "shim/sandbox/vm_dirs.hpp"

#include <cstdlib>

#include <unistd.h>

namespace runvm::shim {

Result<std::string> default_state_root(uid_t euid, const char* xdg_runtime_dir) {
    if (euid == 0) {
        return std::string("/run/runvm");
    }
    const std::string xdg = xdg_runtime_dir ? xdg_runtime_dir : "";
    if (xdg.empty() || xdg.front() != '/') {
        return Err(Error::msg("runvm as uid " + std::to_string(euid) +
                              " keeps its state under $XDG_RUNTIME_DIR/runvm, but "
                              "XDG_RUNTIME_DIR is " +
                              (xdg.empty() ? "not set" : "'" + xdg + "', not an absolute path") +
                              " (set it, or pass --root)"));
    }
    return xdg + "/runvm";
}

std::string vm_base_dir() {
    const uid_t euid = ::geteuid();
    if (euid == 0) {
        return "/run/runvm-vm";
    }
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/') {
        return std::string(xdg) + "/runvm-vm";
    }
    return "/tmp/runvm-vm-" + std::to_string(euid);
}

} // namespace runvm::shim
