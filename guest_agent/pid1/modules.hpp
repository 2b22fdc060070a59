// Kernel modules the image manifest lists, loaded with finit_module in the listed order
// (the image builder writes them in dependency order, e.g. virtio_ring before virtio).
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent {

struct ModuleEntry {
    std::string path;   // the .ko file
    std::string params; // "key=value ...", may be empty
};

// Manifest lines: "<path to .ko> [params...]"; '#' starts a comment; blank lines skipped.
// Errors name the line.
Result<std::vector<ModuleEntry>> parse_module_manifest(const std::string& text);

// finit_module each; a module already loaded (EEXIST) is fine.
Result<void> load_modules(const std::vector<ModuleEntry>& modules);

} // namespace runvm::agent
