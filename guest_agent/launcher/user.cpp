// User switch and /etc/passwd lookup, inside the container's root.
#include "guest_agent/launcher/user.hpp"

#include <cerrno>

#include <grp.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"

namespace runvm::agent {

Result<void> switch_user(const oci::User& user) {
    const auto& extra = user.additional_gids.value_or(std::vector<uint32_t>{});
    std::vector<gid_t> groups(extra.begin(), extra.end());
    // setgroups is denied in a user namespace whose setgroups file says "deny".
    if (::setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && groups.empty())) {
        return Err(Error::from_errno("setgroups (process.user.additionalGids)"));
    }
    if (::setresgid(user.gid, user.gid, user.gid) < 0) {
        return Err(
            Error::from_errno("setresgid " + std::to_string(user.gid) + " (process.user.gid)"));
    }
    if (::setresuid(user.uid, user.uid, user.uid) < 0) {
        return Err(
            Error::from_errno("setresuid " + std::to_string(user.uid) + " (process.user.uid)"));
    }
    return Ok();
}

std::string home_for_uid(uint32_t uid) {
    const auto passwd = read_file("/etc/passwd");
    if (!passwd) {
        return "/";
    }
    const std::string id = std::to_string(uid);
    for (const auto line : split(*passwd, '\n')) {
        const auto f = split(line, ':'); // name:password:uid:gid:gecos:home:shell
        if (f.size() >= 6 && f[2] == id && !f[5].empty()) {
            return std::string(f[5]);
        }
    }
    return "/";
}

} // namespace runvm::agent
