// runc's flag value syntaxes: Go durations (events --interval), go-units sizes (update
// --memory 64m) and update's per-resource flags turned into runtime-spec LinuxResources.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace runvm::cli {

// Go's time.ParseDuration: "1s", "500ms", "1m30s", "1.5h", "0"; units ns us µs ms s m h.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// go-units RAMInBytes (what runc update uses): "64m", "1g", "1.5GiB", "100", "64 kb";
// binary multiples, case-insensitive.
Result<int64_t> parse_ram_in_bytes(std::string_view text);

// One of runc update's resource flags: where its value goes in LinuxResources and how the
// text is read.
struct UpdateFlag {
    enum class Kind { bytes, u64, i64, text, weight };
    const char* names;   // CLI11 names, "--cpu-share,--cpu-shares"
    const char* pointer; // JSON pointer into LinuxResources
    Kind kind;
    const char* help;
};

const std::vector<UpdateFlag>& update_flags();

// Sets `flag`'s field in `resources` from `value` (empty: unset, left alone). Errors name
// the flag: "invalid value for --memory: ...".
Result<void> apply_update_flag(const UpdateFlag& flag, std::string_view value,
                               nlohmann::json& resources);

} // namespace runvm::cli
