// The guest kernel options both backends append to their machine's own command line.
#pragma once

#include <string>

#include "shim/config/runtime_config.hpp"

namespace runvm::shim {

// Options that only shorten the boot (the host's TSC rate, no crypto self-tests), then the
// operator's kernel_cmdline, last so that it wins.
std::string guest_boot_options(const config::RuntimeConfig& settings);

} // namespace runvm::shim
