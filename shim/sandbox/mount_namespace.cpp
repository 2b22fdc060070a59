// open_tree/move_mount (Linux 5.2) and mount_setattr (5.12) through a child in the target
// mount namespace.
#include "shim/sandbox/mount_namespace.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"

namespace runvm::shim {

namespace {

// What the child reports on failure: which step of which entry, and errno.
struct ChildFailure {
    int index = 0;
    int step = 0; // 0: setns, 1: the mount call
    int err = 0;
};

enum class NsOp { attach, detach };

// Runs in a forked child of a possibly multi-threaded process: syscalls only, no allocation.
[[noreturn]] void child_main(int ns_fd, int report_fd, NsOp op, const std::vector<int>& fds,
                             const std::vector<const char*>& targets) {
    ChildFailure f;
    if (::setns(ns_fd, CLONE_NEWNS) != 0) {
        f.err = errno;
        [[maybe_unused]] ssize_t n = ::write(report_fd, &f, sizeof f);
        ::_exit(1);
    }
    for (size_t i = 0; i < targets.size(); ++i) {
        int rc = 0;
        if (op == NsOp::attach) {
            rc = ::move_mount(fds[i], "", AT_FDCWD, targets[i], MOVE_MOUNT_F_EMPTY_PATH);
        } else {
            rc = ::umount2(targets[i], MNT_DETACH | UMOUNT_NOFOLLOW);
            if (rc != 0 && (errno == EINVAL || errno == ENOENT)) {
                rc = 0; // nothing mounted there (any more)
            }
        }
        if (rc != 0) {
            f.index = static_cast<int>(i);
            f.step = 1;
            f.err = errno;
            [[maybe_unused]] ssize_t n = ::write(report_fd, &f, sizeof f);
            ::_exit(1);
        }
    }
    ::_exit(0);
}

Result<void> run_in_mount_namespace(pid_t pid, NsOp op, const std::vector<int>& fds,
                                    const std::vector<std::string>& targets) {
    const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/mnt";
    UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
        return Err(Error::from_errno("open " + ns_path));
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe for mount namespace child"));
    }
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    std::vector<const char*> paths;
    paths.reserve(targets.size());
    for (const auto& t : targets) {
        paths.push_back(t.c_str());
    }
    RUNVM_ASSIGN_OR_RETURN(auto child, ChildProcess::fork_child("mount namespace child", [&] {
                               child_main(ns.get(), wr.get(), op, fds, paths);
                           }));
    wr.reset();
    // A handful of mount syscalls: seconds mean a hung file system; the child is killed.
    pollfd pf{rd.get(), POLLIN, 0};
    int ready = 0;
    do {
        ready = ::poll(&pf, 1, 10'000);
    } while (ready < 0 && errno == EINTR);
    ChildFailure f;
    ssize_t n = 0;
    if (ready > 0) {
        n = ::read(rd.get(), &f, sizeof f);
    } else {
        (void)child.signal(SIGKILL);
    }
    const int status = child.wait().value_or(0);
    if (ready == 0) {
        return Err(Error::with_errno(ETIMEDOUT, "mount namespace of pid " + std::to_string(pid) +
                                                    ": no answer in 10 s"));
    }
    if (n == static_cast<ssize_t>(sizeof f)) {
        errno = f.err;
        if (f.step == 0) {
            return Err(Error::from_errno("setns " + ns_path));
        }
        const auto idx = static_cast<size_t>(f.index);
        const std::string target = idx < targets.size() ? targets[idx] : "?";
        return Err(
            Error::from_errno(std::string(op == NsOp::attach ? "move_mount on " : "umount2 ") +
                              target + " in the mount namespace of pid " + std::to_string(pid)));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Err(Error::msg("mount namespace child for pid " + std::to_string(pid) +
                              " ended without a report (status " + std::to_string(status) + ")"));
    }
    return Ok();
}

} // namespace

Result<UniqueFd> clone_mount_tree(const std::string& source, bool recursive, bool readonly) {
    const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0u);
    UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), flags));
    if (!tree) {
        return Err(Error::from_errno("open_tree " + source));
    }
    // The guest is root on its share: nothing it writes may be a set-user-ID program or a
    // device node on the host (host_shares.cpp binds the same way).
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0u);
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0u), &attr,
                        sizeof attr) != 0) {
        return Err(Error::from_errno("mount_setattr nosuid,nodev" +
                                     std::string(readonly ? ",ro " : " ") + source));
    }
    return tree;
}

Result<void> attach_in_mount_namespace(pid_t pid, const std::vector<TreeAttachment>& trees) {
    std::vector<int> fds;
    std::vector<std::string> targets;
    for (const auto& t : trees) {
        fds.push_back(t.tree_fd);
        targets.push_back(t.target);
    }
    return run_in_mount_namespace(pid, NsOp::attach, fds, targets);
}

Result<void> detach_in_mount_namespace(pid_t pid, const std::vector<std::string>& targets) {
    return run_in_mount_namespace(pid, NsOp::detach, {}, targets);
}

} // namespace runvm::shim
