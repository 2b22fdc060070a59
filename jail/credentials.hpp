// The jail user's ids, looked up before the pivot, and the switch to them that leaves no
// capability behind.
#pragma once

#include <string>
#include <vector>

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

// With --userns: setns into `userns` (made by create_user_namespace), whose 0 is the jail
// user, and setgroups/setresgid/setresuid to 0 there, then no_new_privs. The capabilities
// left are that namespace's, which grant nothing over host objects; the program drops what
// it does not need (the broker does).
Result<void> enter_user_namespace(int userns);

} // namespace runvm::jail
