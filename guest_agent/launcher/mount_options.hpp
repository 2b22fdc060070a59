// Translates an OCI mount's fstab-style options into mount(2) flags, propagation and data,
// the way runc does (runc/libcontainer/specconv parseMountOptions).
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent {

struct MountOptions {
    unsigned long flags = 0;                // MS_RDONLY, MS_NOSUID, ..., MS_BIND, MS_REC
    std::vector<unsigned long> propagation; // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC)
    std::string data;                       // the options mount(2) does not know, comma-joined
    bool is_bind() const;
};

MountOptions parse_mount_options(const std::vector<std::string>& options);

// "shared", "rslave", ... as used by linux.rootfsPropagation; empty → error.
Result<unsigned long> parse_propagation(const std::string& name);

} // namespace runvm::agent
