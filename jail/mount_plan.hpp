// MountPlan: the jail's root as a list of mounts, computed from the spec without touching the
// system (tested as data); apply_mount_plan (mount_apply.hpp) carries it out.
#pragma once

#include <string>
#include <vector>

#include "jail/jail_spec.hpp"

namespace runvm::jail {

struct MountStep {
    enum class Kind {
        symlink,    // target -> source (Debian 12's merged /usr: /bin -> usr/bin)
        bind,       // source at target, nosuid, nodev unless `dev`, read-only if `readonly`
        proc,       // a fresh procfs at target: nosuid,nodev,noexec, other users' pids hidden
        idmap_bind, // source at target, idmapped through the jail's user namespace
    };
    Kind kind = Kind::bind;
    std::string source;
    std::string target; // inside the jail's root
    bool readonly = true;
    bool dev = false; // a device node: the one kind of bind without nodev
    bool operator==(const MountStep&) const = default;
};

// Nothing of the host is visible but /usr and /etc/ld.so.cache (read-only), the binds, the
// devices, the program itself (read-only, when not under /usr) and /proc when asked.
std::vector<MountStep> mount_plan(const JailSpec& spec);

} // namespace runvm::jail
