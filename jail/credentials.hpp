// The jail user's ids, looked up before the pivot, and the switch to them that leaves no
// capability behind.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <sys/capability.h>
#include <sys/types.h>

#include "base/result.hpp"

namespace runvm::jail {

struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary: the --group-add groups
};

// getpwnam(user), getgrnam(each group). A missing user names scripts/setup.sh, which
// creates it; uid 0 is refused (a jail as root is no jail).
Result<Credentials> resolve_credentials(const std::string& user,
                                        const std::vector<std::string>& groups);

// Bounding and ambient sets cleared, setgroups, setresgid, setresuid (which empties the
// permitted and effective sets of a process whose uids all become non-zero), inheritable
// cleared, no_new_privs; then checks that no capability is left.
Result<void> drop_to(const Credentials& creds);

// With --userns: setns into `userns` (made by create_user_namespace), setgroups none, then
// setresgid/setresuid to `uid`/`gid` of that namespace (0, its root, whose 0 is the jail's own
// uid; or, in an identity-mapped namespace, the jail's own uid itself), then no_new_privs.
// With `keep` empty, a root there keeps that namespace's capabilities (which grant nothing over
// host objects) and a non-root none. Otherwise only `keep` is left, in every set and the
// bounding set; a non-root gets them as ambient capabilities, so they survive the exec.
Result<void> enter_user_namespace(int userns, uid_t uid, gid_t gid,
                                  std::span<const cap_value_t> keep);

// Capability names without libcap's cap_ (chown, dac_override...) to values; an error names the one
// it does not know.
Result<std::vector<cap_value_t>> capability_values(const std::vector<std::string>& names);

} // namespace runvm::jail
