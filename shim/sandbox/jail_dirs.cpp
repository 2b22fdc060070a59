// <vmdir>/jail and <vmdir>/jail-root: made per boot, handed to the jail user, removed after.
#include "shim/sandbox/jail_dirs.hpp"

#include <filesystem>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/secure_dir.hpp"

namespace runvm::shim {

Result<JailDirs> make_jail_dirs(const std::string& run_dir, const config::RuntimeConfig& settings) {
    // Rootless, the helpers already run as the unprivileged user who started runvm: there is
    // no uid to drop to and no namespace to make without one (docs/security.md, "Jail").
    if (!settings.jail || ::geteuid() != 0) {
        if (!settings.jail && ::geteuid() == 0) {
            spdlog::warn("jail: off: the broker and the hypervisor run as root, unconfined by "
                         "runvm-jail (for development only; docs/security.md)");
        }
        return JailDirs{run_dir, "", {}};
    }
    JailDirs dirs{run_dir + "/jail", run_dir + "/jail-root", {}};
    RUNVM_ASSIGN_OR_RETURN(dirs.user, jail::resolve_credentials(settings.jail_user, {}));
    remove_jail_dirs(dirs);
    RUNVM_ASSIGN_OR_RETURN(UniqueFd dir, create_owned_dir(dirs.dir, 0700));
    if (::fchown(dir.get(), dirs.user.uid, dirs.user.gid) != 0) {
        return Err(Error::from_errno("fchown " + dirs.dir + " to jail user " + settings.jail_user));
    }
    RUNVM_TRY(create_owned_dir(dirs.root, 0755));
    return dirs;
}

Result<void> give_to_jail_user(const JailDirs& dirs, const std::string& socket) {
    if (!dirs.jailed()) {
        return Ok();
    }
    if (::fchownat(AT_FDCWD, socket.c_str(), dirs.user.uid, dirs.user.gid, AT_SYMLINK_NOFOLLOW) !=
        0) {
        return Err(Error::from_errno("chown " + socket + " to the jail user"));
    }
    return Ok();
}

void remove_jail_dirs(const JailDirs& dirs) {
    if (!dirs.jailed()) {
        return;
    }
    std::error_code ec; // what cannot go now goes with the VM directory's own removal
    std::filesystem::remove_all(dirs.dir, ec);
    ::rmdir(dirs.root.c_str());
}

} // namespace runvm::shim
