// Fuzzes config.yaml parsing with arbitrary bytes; accepted values must be within their ranges
// and every io.runvm.* annotation, through the parser the monitor runs (apply_annotations over
// annotations.cpp's table), must hold the same value rules without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shim/config/annotations.hpp"
#include "shim/config/runtime_config.hpp"

namespace {

bool in_range(const runvm::config::RuntimeConfig& c) {
    auto absolute_or_empty = [](const std::string& p) { return p.empty() || p.front() == '/'; };
    return c.vcpus >= 1 && c.vcpus <= 255 && c.memory_mib >= 64 && c.memory_mib <= 1048576 &&
           absolute_or_empty(c.kernel) && absolute_or_empty(c.initrd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = runvm::config::parse_runtime_config(text, "fuzz.yaml");
    if (config.ok() &&
        (!in_range(*config) || config->state_root.empty() || config->state_root.front() != '/')) {
        __builtin_trap();
    }
    const std::string value(text.substr(0, 128));
    for (const auto& key : runvm::config::annotation_keys()) {
        auto overridden = runvm::config::apply_annotations(runvm::config::RuntimeConfig{},
                                                           {{std::string(key.key), value}});
        if (overridden.ok() && !in_range(*overridden)) {
            __builtin_trap();
        }
    }
    return 0;
}
