// PID 1 duties at boot: kernel modules from the manifest, leaving the initramfs root, early
// mounts, hostname.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::agent {

struct Pid1Options {
    std::string module_manifest = "/etc/runvm/modules.manifest"; // missing file: no modules
    std::string hostname = "runvm";
};

Result<void> run_pid1_boot(const Pid1Options& options);

} // namespace runvm::agent
