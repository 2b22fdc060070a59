// setns into the container's namespaces (user first, mount last), then fork and exec.
#include "guest_agent/launcher/exec_init.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/launcher/child_exit.hpp"
#include "guest_agent/launcher/process_setup.hpp"
#include "guest_agent/launcher/terminal.hpp"

namespace runvm::agent {

namespace {

// Joins the namespace `name` of `pid` unless it is already ours (setns to one's own user
// namespace is EINVAL).
Result<void> join(pid_t pid, const char* name, int flag) {
    const std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + name;
    const std::string ours = std::string("/proc/self/ns/") + name;
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) < 0) {
        return Err(Error::from_errno("stat " + theirs));
    }
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        return Ok();
    }
    UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + theirs));
    }
    if (::setns(fd.get(), flag) < 0) {
        return Err(Error::from_errno("setns " + theirs));
    }
    return Ok();
}

Result<void> setup_stdio(const StdioFds& fds) {
    const int src[3] = {fds.in, fds.out, fds.err};
    for (int i = 0; i < 3; ++i) {
        const int high = src[i] >= 0
                             ? ::fcntl(src[i], F_DUPFD_CLOEXEC, 10)
                             : ::open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        if (high < 0 || ::dup2(high, i) < 0) {
            return Err(Error::from_errno("dup stdio " + std::to_string(i)));
        }
        ::close(high);
    }
    return Ok();
}

[[noreturn]] void run_exec_child(const ExecPlan& plan, const SyncChannel& sync) {
    ::prctl(PR_SET_PDEATHSIG, 0);
    if (::setsid() < 0) {
        fail_step(sync, "setsid", Error::from_errno("setsid"));
    }
    if (plan.process.terminal) {
        auto pty = open_pty(plan.process.process.console_size);
        if (!pty.ok()) {
            fail_step(sync, "console", pty.error());
        }
        SyncMessage m;
        m.type = SyncType::console;
        (void)sync.send(m, pty->master.get());
        for (int fd = 0; fd < 3; ++fd) {
            if (::dup2(pty->slave.get(), fd) < 0) {
                fail_step(sync, "console",
                          Error::from_errno("dup2 pty slave to " + std::to_string(fd)));
            }
        }
        if (::ioctl(0, TIOCSCTTY, 0) < 0) {
            fail_step(sync, "console", Error::from_errno("ioctl TIOCSCTTY"));
        }
    } else if (auto r = setup_stdio(plan.stdio); !r.ok()) {
        fail_step(sync, "stdio", r.error());
    }
    // Now on 0-2, the stdio fds go too: until start only the sync channel is left above 2.
    if (auto r = close_fds_except({sync.get()}); !r.ok()) {
        fail_step(sync, "close inherited fds", r.error());
    }
    const char* step = "process";
    auto target = setup_process(plan.process, &step);
    if (!target.ok()) {
        fail_step(sync, step, target.error(), 127);
    }
    if (auto r = sync.send_type(SyncType::created); !r.ok()) {
        ::_exit(1);
    }
    auto go = sync.receive(std::chrono::milliseconds(-1));
    if (!go.ok() || go->closed || go->msg.type != SyncType::start) {
        ::_exit(1);
    }
    prepare_exec_environment();
    if (auto r = load_late_seccomp(plan.process); !r.ok()) {
        fail_step(sync, "seccomp", r.error());
    }
    exec_target(sync, *target);
}
} // namespace

[[noreturn]] void run_exec_intermediate(const ExecPlan& plan, const SyncChannel& sync) {
    prepare_exec_environment();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The agent's fds (other processes' stdio pipes and streams) stay out of the container.
    if (auto r = close_fds_except({sync.get(), plan.stdio.in, plan.stdio.out, plan.stdio.err});
        !r.ok()) {
        fail_step(sync, "close inherited fds", r.error());
    }
    if (!plan.cgroup_dir.empty()) {
        const std::string procs = plan.cgroup_dir + "/cgroup.procs";
        UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || !write_all(fd.get(), "0", 1, procs.c_str()).ok()) {
            fail_step(sync, "join cgroup", Error::from_errno("write " + procs));
        }
    }
    static const std::pair<const char*, int> kOrder[] = {
        {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
        {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
        {"mnt", CLONE_NEWNS},
    };
    for (const auto& [name, flag] : kOrder) {
        if (auto r = join(plan.init_pid, name, flag); !r.ok()) {
            fail_step(sync, "join namespaces", r.error());
        }
    }
    auto child = ChildProcess::fork_child("exec process", [&] { run_exec_child(plan, sync); });
    if (!child) {
        fail_step(sync, "fork exec process", Error::with_errno(child.error().code(), "fork"));
    }
    // The exec process outlives this intermediate: the agent's Reaper gets it.
    (void)sync.send_type(SyncType::init_pid, child->release());
    ::_exit(0);
}

} // namespace runvm::agent
