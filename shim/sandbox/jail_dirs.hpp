// The VM directory's part for jailed processes (docs/security.md, "Jail"): <vmdir>/jail, the
// jail user's, where every socket and file a jailed process makes goes, and <vmdir>/jail-root,
// the empty directory runvm-jail mounts its root on.
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "jail/credentials.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/sandbox/vm_ids.hpp"

namespace runvm::shim {

struct JailDirs {
    std::string dir;        // the sockets' directory: <vmdir>/jail, or <vmdir> itself unjailed
    std::string root;       // empty unjailed
    jail::Credentials user; // the VM's own ids, leased (vm_ids.hpp)
    std::shared_ptr<const VmIdLease> lease; // held while any copy of these dirs is
    bool jailed() const { return !root.empty(); }
};

// Unjailed: `run_dir` itself, as before the jail. Jailed: the VM's ids leased from
// settings.jail_vm_ids (in `lock_dir`), then both directories made afresh (a stale pair from an
// earlier boot of the same id is removed first), jail/ owned by those ids, 0700; jail-root
// root's, 0755.
Result<JailDirs> make_jail_dirs(const std::string& run_dir, const config::RuntimeConfig& settings,
                                const std::string& vm_name,
                                const std::string& lock_dir = std::string(kVmIdLockDir));

// Gives a socket the broker made in dirs.dir to the VM's ids, whose hypervisor
// connects to it (connect needs write permission on the socket file).
Result<void> give_to_jail_user(const JailDirs& dirs, const std::string& socket);

// Removes both with what a jailed process left in them; once those processes are gone.
void remove_jail_dirs(const JailDirs& dirs);

} // namespace runvm::shim
