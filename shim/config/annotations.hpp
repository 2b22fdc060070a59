// The io.runvm.* annotations a container's config.json may set: one table, read by the parser
// (apply_annotations), by `runvm features` and by the test that holds docs/config.md to it.
#pragma once

#include <span>
#include <string_view>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::config {

struct AnnotationKey {
    std::string_view key;         // "io.runvm.vcpus"
    std::string_view overrides;   // the config.yaml key whose field it sets
    std::string_view description; // its values, for `runvm features`
    // Checks `value` and sets the field; the error states the rule, the caller names the key.
    Result<void> (*apply)(std::string_view value, RuntimeConfig& config);
    // After apply, what the operator's settings impose on the new value: the path allow-list
    // or a ceiling. nullptr: the value rule is all.
    Result<void> (*confine)(const RuntimeConfig& operator_config, RuntimeConfig& config) = nullptr;
};

std::span<const AnnotationKey> annotation_keys();

// The table's entry for `key`, or nullptr.
const AnnotationKey* find_annotation_key(std::string_view key);

inline constexpr std::string_view kAnnotationPrefix = "io.runvm.";

} // namespace runvm::config
