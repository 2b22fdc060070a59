// drop_all_capabilities: libcap for the process sets, prctl for bounding and ambient.
#include "broker/hardening/capabilities.hpp"

#include <cerrno>

#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

namespace runvm::broker {

Result<void> drop_all_capabilities() {
    // The bounding set first: dropping it needs CAP_SETPCAP, which goes next.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM) {
            return Err(Error::from_errno("prctl PR_CAPBSET_DROP " + std::to_string(cap)));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        return Err(Error::from_errno("prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    cap_t none = ::cap_init();
    if (none == nullptr) {
        return Err(Error::from_errno("cap_init"));
    }
    const int rc = ::cap_set_proc(none);
    const int err = errno;
    ::cap_free(none);
    if (rc < 0) {
        return Err(Error::with_errno(err, "cap_set_proc (empty)"));
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return Err(Error::from_errno("prctl PR_SET_NO_NEW_PRIVS"));
    }
    return Ok();
}

} // namespace runvm::broker
