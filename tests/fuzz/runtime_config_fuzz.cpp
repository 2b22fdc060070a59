// Fuzzes config.yaml parsing with arbitrary bytes; accepted values must be within their ranges
// and the io.runvm.* annotations must parse the same value rules without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shim/config/runtime_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = runvm::config::parse_runtime_config(text, "fuzz.yaml");
    if (config.ok() && (config->vcpus < 1 || config->vcpus > 255 || config->memory_mib < 64 ||
                        config->memory_mib > 1048576 || config->state_root.empty() ||
                        config->state_root.front() != '/')) {
        __builtin_trap();
    }
    const std::string value(text.substr(0, 128));
    auto overridden = runvm::config::apply_annotations(
        runvm::config::RuntimeConfig{},
        {{"io.runvm.vcpus", value}, {"io.runvm.memory_mib", value}});
    if (overridden.ok() && (overridden->vcpus < 1 || overridden->vcpus > 255)) {
        __builtin_trap();
    }
    return 0;
}
