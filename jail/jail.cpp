// The jailer's steps; the design is Firecracker's jailer (docs/security.md, "Jail").
#include "jail/jail.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "jail/credentials.hpp"
#include "jail/idmapped_mount.hpp"
#include "jail/mount_apply.hpp"
#include "jail/mount_plan.hpp"
#include "jail/seccomp_profile.hpp"
#include "jail/user_namespace.hpp"

namespace runvm::jail {

namespace {

template <typename T>
Result<T> step(const char* name, Result<T> r) {
    if (!r) {
        return Err(std::move(r).error().context(name));
    }
    return r;
}

Result<void> enter_namespaces() {
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
        return Err(Error::from_errno("unshare mount, net, ipc, uts"));
    }
    // Nothing mounted from here on reaches the host's namespace, nor the reverse.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return Err(Error::from_errno("make / rprivate"));
    }
    return Ok();
}

// Every fd above 2 but `keep` is marked close-on-exec (close_range, Linux 5.11).
Result<void> close_other_fds(const std::vector<int>& keep) {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        return Err(Error::from_errno("close_range 3.. CLOEXEC"));
    }
    for (const int fd : keep) {
        if (::fcntl(fd, F_SETFD, 0) != 0) {
            return Err(Error::from_errno("--keep-fd " + std::to_string(fd)));
        }
    }
    return Ok();
}

// The change of uid cleared the parent-death signal the spawner set (commit_creds does): set it
// again, so the jailed program still dies with the monitor, and check the parent is the one
// that spawned us (it may have died in between).
Result<void> die_with_parent(pid_t parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        return Err(Error::from_errno("prctl PR_SET_PDEATHSIG"));
    }
    if (::getppid() != parent) {
        return Err(Error::with_errno(ESRCH, "the parent " + std::to_string(parent) + " is gone"));
    }
    return Ok();
}

// Inside 0 -> the jail user, 1..65535 -> its /etc/subuid and /etc/subgid ranges; or every id
// to itself (userns_host_ids).
Result<UniqueFd> make_user_namespace(const JailSpec& spec, const Credentials& creds) {
    if (!spec.group_add.empty()) {
        return Err(Error::with_errno(EINVAL, "--group-add: no host groups in a user namespace"));
    }
    if (spec.userns_host_ids) {
        const std::vector<IdMap> every_id = {{0, 0, 4294967295U}};
        return create_user_namespace(every_id, every_id);
    }
    RUNVM_ASSIGN_OR_RETURN(auto uids, jail_id_map(spec.user, creds.uid, "/etc/subuid"));
    RUNVM_ASSIGN_OR_RETURN(auto gids, jail_id_map(spec.user, creds.gid, "/etc/subgid"));
    return create_user_namespace(uids, gids);
}

} // namespace

Result<void> run_jail(const JailSpec& spec) {
    const pid_t parent = ::getppid();
    RUNVM_ASSIGN_OR_RETURN(Credentials creds,
                           step("user", resolve_credentials(spec.user, spec.group_add)));
    if (spec.ids) {
        creds.uid = spec.ids->first;
        creds.gid = spec.ids->second;
    }
    RUNVM_ASSIGN_OR_RETURN(const auto keep_caps,
                           step("capabilities", capability_values(spec.keep_caps)));
    UniqueFd userns;
    IdmapBinder idmap;
    if (spec.userns) {
        RUNVM_ASSIGN_OR_RETURN(userns, step("user namespace", make_user_namespace(spec, creds)));
        // Host ids: the same recursive bind, nosuid,nodev,noexec, without an idmapping.
        const int fd_or_none = spec.userns_host_ids ? -1 : userns.get();
        idmap = [fd = fd_or_none](const std::string& source, const std::string& target,
                                  bool readonly) {
            return bind_idmapped(source, target, fd, readonly);
        };
    }
    // The other namespaces are made by the host's root, so the jailed program, even as root
    // of its user namespace, cannot change their mounts or interfaces.
    RUNVM_TRY(step("namespaces", enter_namespaces()));
    RUNVM_TRY(step("root", apply_mount_plan(spec.root, mount_plan(spec), idmap)));
    RUNVM_TRY(step("pivot", pivot_into(spec.root)));
    if (spec.userns) {
        // Identity-mapped, its own uid is the same number inside: not the namespace's root.
        const uid_t uid = spec.userns_host_ids ? creds.uid : 0;
        const gid_t gid = spec.userns_host_ids ? creds.gid : 0;
        RUNVM_TRY(step("credentials", enter_user_namespace(userns.get(), uid, gid, keep_caps)));
    } else {
        RUNVM_TRY(step("credentials", drop_to(creds)));
    }
    userns.reset();
    RUNVM_TRY(step("parent", die_with_parent(parent)));
    RUNVM_TRY(step("fds", close_other_fds(spec.keep_fds)));
    RUNVM_TRY(step("seccomp", install_profile(spec.seccomp)));
    std::vector<char*> argv;
    for (const std::string& arg : spec.program) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    return Err(Error::from_errno("exec " + spec.program[0]));
}

} // namespace runvm::jail
