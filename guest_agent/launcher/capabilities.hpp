// The five capability sets of process.capabilities, through libcap.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// "CAP_SYS_ADMIN" -> 21; unknown names are an error naming the name.
Result<int> capability_from_name(const std::string& name);

// Resolved capability numbers of each set.
struct CapabilitySets {
    std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

Result<CapabilitySets> resolve_capabilities(const oci::Capabilities& caps);

// Drops every capability outside the bounding set (before the uid change).
Result<void> apply_bounding_set(const CapabilitySets& sets);
// Sets effective/permitted/inheritable (capset) and raises the ambient ones (after the uid
// change, which cleared them unless keep-caps was set).
Result<void> apply_capability_sets(const CapabilitySets& sets);

// PR_SET_KEEPCAPS around the uid change so permitted capabilities survive it.
Result<void> set_keep_caps(bool on);

} // namespace runvm::agent
