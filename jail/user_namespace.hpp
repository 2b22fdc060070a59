// The jail's user namespace: inside uid/gid 0 is the jail user, 1..65535 its subordinate ids.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::jail {

// One line of /proc/<pid>/uid_map or gid_map: ids inside..inside+count-1 of the namespace are
// outside..outside+count-1 of its parent.
struct IdMap {
    uint32_t inside = 0;
    uint32_t outside = 0;
    uint32_t count = 0;
    bool operator==(const IdMap&) const = default;
};

// Ids of the user namespace's ids 1..65535: a container's users and groups (nobody is 65534).
inline constexpr uint32_t kSubordinateIds = 65535;

// Inside 0 -> `primary`, inside 1..65535 -> the first 65535 ids of `user`'s range in
// `subid_file` (/etc/subuid or /etc/subgid; lines "name-or-id:start:count", shadow-utils'
// subuid(5)). An error names the file and line, or the user when it has no range.
Result<std::vector<IdMap>> jail_id_map(std::string_view user, uint32_t primary,
                                       const std::string& subid_file);

// "0 1000 1\n1 1879048192 65535\n": the maps as /proc/<pid>/uid_map takes and shows them.
std::string format_id_map(std::span<const IdMap> map);

// A new user namespace with these maps, held open by the returned fd (of
// /proc/<helper child>/ns/user; the helper child is reaped before returning). The caller
// needs CAP_SETUID and CAP_SETGID (root): any maps into its own namespace are allowed then.
Result<UniqueFd> create_user_namespace(std::span<const IdMap> uids, std::span<const IdMap> gids);

} // namespace runvm::jail
