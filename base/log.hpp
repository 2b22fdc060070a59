// Process-wide logging setup on spdlog: text or JSON lines, to stderr or a file.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm {

enum class LogFormat { text, json };

struct LogOptions {
    std::string level = "info"; // trace, debug, info, warn, error, off
    LogFormat format = LogFormat::text;
    std::string path;           // empty: stderr
    std::string name = "runvm"; // the program, shown in each line
};

Result<void> init_logging(const LogOptions& options);

} // namespace runvm
