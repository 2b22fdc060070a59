// personality(2) from the spec's domain, like runc 1.2's setupPersonality.
#include "guest_agent/launcher/personality.hpp"

#include <cerrno>

#include <sys/personality.h>

namespace runvm::agent {

Result<unsigned long> personality_domain(const oci::Personality& personality) {
    if (personality.domain == "LINUX") {
        return static_cast<unsigned long>(PER_LINUX);
    }
    if (personality.domain == "LINUX32") {
        return static_cast<unsigned long>(PER_LINUX32);
    }
    return Err(Error::with_errno(EINVAL, "linux.personality.domain: unknown domain \"" +
                                             personality.domain + "\", want LINUX or LINUX32"));
}

Result<void> apply_personality(const oci::Personality& personality) {
    RUNVM_ASSIGN_OR_RETURN(const unsigned long domain, personality_domain(personality));
    if (::personality(domain) < 0) {
        return Err(Error::from_errno("personality " + personality.domain));
    }
    return Ok();
}

} // namespace runvm::agent
