// Container init sequence, in the order of runc's nsexec + standard_init_linux.go.
#include "guest_agent/launcher/container_init.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/launcher/child_exit.hpp"
#include "guest_agent/launcher/devices.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/launcher/masked_paths.hpp"
#include "guest_agent/launcher/mounts.hpp"
#include "guest_agent/launcher/personality.hpp"
#include "guest_agent/launcher/process_setup.hpp"
#include "guest_agent/launcher/rootfs.hpp"
#include "guest_agent/launcher/sysctl.hpp"
#include "guest_agent/launcher/terminal.hpp"
#include "oci/hooks_runner.hpp"

namespace runvm::agent {

namespace {

template <typename R>
void must(const SyncChannel& sync, const char* step, R&& result) {
    if (!result.ok()) {
        fail_step(sync, step, result.error());
    }
}

Result<void> check_errno(int rc, const std::string& what) {
    if (rc < 0) {
        return Err(Error::from_errno(what));
    }
    return Ok();
}

// Moves the launcher's stdio fds to 0-2 (a missing one becomes /dev/null).
Result<void> setup_stdio(const StdioFds& fds) {
    const int src[3] = {fds.in, fds.out, fds.err};
    int high[3];
    for (int i = 0; i < 3; ++i) {
        high[i] = src[i] >= 0 ? ::fcntl(src[i], F_DUPFD_CLOEXEC, 10)
                              : ::open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY | O_CLOEXEC);
        if (high[i] < 0) {
            return Err(Error::from_errno("dup stdio " + std::to_string(i)));
        }
    }
    for (int i = 0; i < 3; ++i) {
        if (::dup2(high[i], i) < 0) {
            return Err(Error::from_errno("dup2 stdio " + std::to_string(i)));
        }
        ::close(high[i]);
    }
    return Ok();
}

Result<void> write_file(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    return write_all(fd.get(), text.data(), text.size(), path.c_str());
}

// The state JSON is built only when there are hooks: the serializer is cold code that
// every container start would otherwise run twice under TCG.
Result<void> run_spec_hooks(const LaunchPlan& plan,
                            std::optional<std::vector<oci::Hook>> oci::Hooks::*member,
                            const char* phase) {
    const auto& hooks = plan.spec.hooks;
    if (!hooks || !((*hooks).*member) || ((*hooks).*member)->empty()) {
        return Ok();
    }
    return oci::run_hooks(*((*hooks).*member), phase,
                          oci::hook_state_json(plan.id, "created", ::getpid(), plan.bundle));
}

} // namespace

[[noreturn]] void run_intermediate(const LaunchPlan& plan, const SyncChannel& sync) {
    prepare_exec_environment();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The agent's fds (other processes' stdio pipes and streams) stay out of the container.
    must(sync, "close inherited fds",
         close_fds_except({sync.get(), plan.stdio.in, plan.stdio.out, plan.stdio.err}));
    if (!plan.cgroup_dir.empty()) {
        must(sync, "join cgroup", write_file(plan.cgroup_dir + "/cgroup.procs", "0"));
    }
    must(sync, "join user namespace", join_namespaces(plan.namespaces, CLONE_NEWUSER));
    if ((plan.namespaces.new_flags & CLONE_NEWUSER) != 0) {
        must(sync, "unshare user namespace",
             check_errno(::unshare(CLONE_NEWUSER), "unshare CLONE_NEWUSER"));
        must(sync, "user namespace maps", sync.send_type(SyncType::need_id_maps));
        auto reply = sync.receive(std::chrono::milliseconds(30000));
        if (!reply.ok() || reply->closed || reply->msg.type != SyncType::id_maps_done) {
            ::_exit(1);
        }
    }
    // Like runc's nsexec: the uid becomes root before the other namespaces are made, the gid
    // only in the init (the new IPC namespace's mqueue root records both).
    if (plan.namespaces.has(CLONE_NEWUSER)) {
        must(sync, "become root in user namespace",
             check_errno(::setresuid(0, 0, 0), "setresuid 0 in the user namespace"));
    }
    must(sync, "join namespaces", join_namespaces(plan.namespaces, ~CLONE_NEWUSER));
    const int flags = plan.namespaces.new_flags & ~CLONE_NEWUSER;
    must(sync, "unshare namespaces", check_errno(::unshare(flags), "unshare namespaces"));
    auto child =
        ChildProcess::fork_child("container init", [&] { run_container_init(plan, sync); });
    if (!child) {
        fail_step(sync, "fork container init", Error::with_errno(child.error().code(), "fork"));
    }
    // The init outlives this intermediate: the agent's Reaper gets it.
    must(sync, "report init pid", sync.send_type(SyncType::init_pid, child->release()));
    ::_exit(0);
}

[[noreturn]] void run_container_init(const LaunchPlan& plan, const SyncChannel& sync) {
    const oci::Spec& spec = plan.spec;
    const std::vector<oci::Mount> no_mounts;
    const auto& mounts = spec.mounts ? *spec.mounts : no_mounts;
    const std::optional<std::string> propagation =
        spec.linux ? spec.linux->rootfs_propagation : std::nullopt;
    // The intermediate process's death (it exits now) must not kill the init.
    ::prctl(PR_SET_PDEATHSIG, 0);
    must(sync, "setsid", check_errno(::setsid(), "setsid"));
    if (plan.namespaces.has(CLONE_NEWUSER)) {
        must(sync, "become root in user namespace",
             check_errno(::setresgid(0, 0, 0), "setresgid 0 in the user namespace"));
    }
    if (!plan.process.terminal) {
        must(sync, "stdio", setup_stdio(plan.stdio));
    }
    // Now on 0-2, the stdio fds go too: until start only the sync channel is left above 2.
    must(sync, "close inherited fds", close_fds_except({sync.get()}));
    must(sync, "prepare rootfs", prepare_rootfs(plan.rootfs, propagation));
    must(sync, "mount", mount_spec_mounts(plan.rootfs, mounts));
    // runc makes a missing cwd (before the root may become read-only).
    if (auto cwd = secure_join(plan.rootfs, plan.process.process.cwd); cwd.ok()) {
        must(sync, "cwd", mkdir_all(*cwd, 0755));
    }
    must(sync, "createContainer hooks",
         run_spec_hooks(plan, &oci::Hooks::create_container, "createContainer"));
    if (needs_dev_setup(spec)) {
        std::vector<oci::Device> devices = default_devices();
        if (spec.linux && spec.linux->devices) {
            devices.insert(devices.end(), spec.linux->devices->begin(), spec.linux->devices->end());
        }
        const mode_t old_umask = ::umask(0);
        must(sync, "create devices",
             create_devices(plan.rootfs, devices, plan.namespaces.has(CLONE_NEWUSER)));
        ::umask(old_umask);
        must(sync, "create /dev symlinks", create_dev_symlinks(plan.rootfs));
    }
    must(sync, "pivot_root", pivot_into(plan.rootfs));
    if (plan.process.terminal) {
        auto pty = open_pty(plan.process.process.console_size);
        must(sync, "console", pty);
        SyncMessage m;
        m.type = SyncType::console;
        must(sync, "console", sync.send(m, pty->master.get()));
        must(sync, "console", attach_pty_slave(*pty));
    }
    must(sync, "finalize mounts", finalize_readonly_mounts(mounts));
    if (spec.root && spec.root->readonly.value_or(false)) {
        must(sync, "readonly rootfs", remount_readonly("/"));
    }
    must(sync, "rootfs propagation", apply_root_propagation(propagation));
    ::umask(022);
    if (spec.hostname && !spec.hostname->empty()) {
        must(sync, "hostname", set_hostname(*spec.hostname));
    }
    if (spec.domainname && !spec.domainname->empty()) {
        must(sync, "domainname", set_domainname(*spec.domainname));
    }
    if (spec.linux) {
        if (spec.linux->sysctl) {
            must(sync, "sysctl", apply_sysctl(*spec.linux->sysctl));
        }
        if (spec.linux->readonly_paths) {
            must(sync, "readonlyPaths", make_paths_readonly(*spec.linux->readonly_paths));
        }
        if (spec.linux->masked_paths) {
            must(sync, "maskedPaths", mask_paths(*spec.linux->masked_paths));
        }
    }
    if (spec.linux && spec.linux->personality) {
        must(sync, "personality", apply_personality(*spec.linux->personality));
    }
    const char* step = "process";
    auto target = setup_process(plan.process, &step);
    if (!target.ok()) {
        fail_step(sync, step, target.error(), 127);
    }
    must(sync, "report created", sync.send_type(SyncType::created));
    auto go = sync.receive(std::chrono::milliseconds(-1));
    if (!go.ok() || go->closed || go->msg.type != SyncType::start) {
        ::_exit(1); // the launcher went away or changed its mind: never run the process
    }
    prepare_exec_environment();
    must(sync, "startContainer hooks",
         run_spec_hooks(plan, &oci::Hooks::start_container, "startContainer"));
    must(sync, "seccomp", load_late_seccomp(plan.process));
    exec_target(sync, *target);
}

} // namespace runvm::agent
