// The VM directory's part for jailed processes (docs/security.md, "Jail"): <vmdir>/jail, the
// jail user's, where every socket and file a jailed process makes goes, and <vmdir>/jail-root,
// the empty directory runvm-jail mounts its root on.
#pragma once

#include <string>

#include "base/result.hpp"
#include "jail/credentials.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::shim {

struct JailDirs {
    std::string dir;  // the sockets' directory: <vmdir>/jail, or <vmdir> itself unjailed
    std::string root; // empty unjailed
    jail::Credentials user;
    bool jailed() const { return !root.empty(); }
};

// Unjailed: `run_dir` itself, as before the jail. Jailed: both directories made afresh (a
// stale pair from an earlier boot of the same id is removed first), jail/ owned by
// settings.jail_user and group, 0700; jail-root root's, 0755.
Result<JailDirs> make_jail_dirs(const std::string& run_dir, const config::RuntimeConfig& settings);

// Gives a socket of an unjailed broker in dirs.dir to the jail user, whose
// process connects to it (connect needs write permission on the socket file).
Result<void> give_to_jail_user(const JailDirs& dirs, const std::string& socket);

// Removes both with what a jailed process left in them; once those processes are gone.
void remove_jail_dirs(const JailDirs& dirs);

} // namespace runvm::shim
