// process.user: groups, gid, uid (keeping capabilities across the change), and HOME.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// setgroups(additionalGids), setresgid, setresuid. Errors name the call and the id.
Result<void> switch_user(const oci::User& user);

// The home directory of `uid` in the (already pivoted) root's /etc/passwd, "/" when absent.
std::string home_for_uid(uint32_t uid);

} // namespace runvm::agent
