// <vmdir>/jail and <vmdir>/jail-root: made per boot, handed to the jail user, removed after.
#include "shim/sandbox/jail_dirs.hpp"

#include <filesystem>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/secure_dir.hpp"

namespace runvm::shim {

namespace {

Result<void> check_subordinate_files(const config::RuntimeConfig& settings) {
    for (const char* file : {"/etc/subuid", "/etc/subgid"}) {
        auto text = read_file(file);
        if (!text) {
            if (text.error().code() == ENOENT) {
                continue;
            }
            return Err(std::move(text).error());
        }
        RUNVM_TRY(check_vm_id_range(settings.jail_vm_ids, settings.jail_user, file, *text));
    }
    return Ok();
}

} // namespace

Result<JailDirs> make_jail_dirs(const std::string& run_dir, const config::RuntimeConfig& settings,
                                const std::string& vm_name, const std::string& lock_dir) {
    // Rootless, the helpers already run as the unprivileged user who started runvm: there is
    // no uid to drop to and no namespace to make without one (docs/security.md, "Jail").
    if (!settings.jail || ::geteuid() != 0) {
        if (!settings.jail && ::geteuid() == 0) {
            spdlog::warn("jail: off: the broker and the hypervisor run as root, unconfined by "
                         "runvm-jail (for development only; docs/security.md)");
        }
        return JailDirs{run_dir, "", {}, {}};
    }
    JailDirs dirs{run_dir + "/jail", run_dir + "/jail-root", {}, {}};
    // The user must exist (runvm-jail reads its subordinate ranges); the VM runs as its own ids.
    RUNVM_TRY(jail::resolve_credentials(settings.jail_user, {}));
    RUNVM_TRY(check_subordinate_files(settings));
    RUNVM_ASSIGN_OR_RETURN(VmIdLease lease,
                           VmIdLease::acquire(lock_dir, settings.jail_vm_ids, vm_name));
    dirs.user = jail::Credentials{lease.id(), lease.id(), {}};
    dirs.lease = std::make_shared<const VmIdLease>(std::move(lease));
    remove_jail_dirs(dirs);
    RUNVM_ASSIGN_OR_RETURN(UniqueFd dir, create_owned_dir(dirs.dir, 0700));
    if (::fchown(dir.get(), dirs.user.uid, dirs.user.gid) != 0) {
        return Err(Error::from_errno("fchown " + dirs.dir + " to the VM's ids " +
                                     std::to_string(dirs.user.uid)));
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
        return Err(Error::from_errno("chown " + socket + " to the VM's ids " +
                                     std::to_string(dirs.user.uid)));
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
