// The settings a VM is built with, before its bundle is read: config::RuntimeConfig from the
// defaults, then /etc/runvm/config.yaml, then the environment (RUNVM_*); the bundle's io.runvm.*
// annotations come last (config::apply_annotations, in the monitor).
#pragma once

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::shim {

// The file named by RUNVM_CONFIG, else /etc/runvm/config.yaml (a missing file: defaults), then
// the environment; an invalid file is an error naming its line and key, a bad variable one
// naming the variable.
Result<config::RuntimeConfig> load_settings();

} // namespace runvm::shim
