// Runtime settings from the config file and the environment.
#include "shim/sandbox/runtime_settings.hpp"

#include <cstdlib>

namespace runvm::shim {

Result<config::RuntimeConfig> load_settings() {
    const char* path = std::getenv("RUNVM_CONFIG");
    RUNVM_ASSIGN_OR_RETURN(auto settings, config::load_runtime_config(
                                              path && *path ? path : config::kDefaultConfigPath));
    RUNVM_TRY(config::apply_environment(settings));
    return settings;
}

} // namespace runvm::shim
