// linux.personality: the execution domain (LINUX, LINUX32) set with personality(2).
#pragma once

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// LINUX -> PER_LINUX, LINUX32 -> PER_LINUX32; anything else names linux.personality.domain.
Result<unsigned long> personality_domain(const oci::Personality& personality);

// personality(2) for the calling process; exec keeps it. Flags are not applied (runc 1.2
// ignores them too; plan_launch warns).
Result<void> apply_personality(const oci::Personality& personality);

} // namespace runvm::agent
