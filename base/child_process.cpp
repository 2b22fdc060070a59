// ChildProcess: fork/exec, timed wait, kill and reap.
#include "base/child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm {

namespace {

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const SpawnOptions& options,
                             pid_t parent) {
    if (options.die_with_parent) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
    }
    if (options.stdin_null) {
        const int fd = ::open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            ::dup2(fd, 0);
        }
    }
    if (!options.stdout_path.empty()) {
        const int fd = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || ::dup2(fd, 1) < 0) {
            ::_exit(127);
        }
    }
    if (!options.stderr_path.empty()) {
        const int fd = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || ::dup2(fd, 2) < 0) {
            ::_exit(127);
        }
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
}

} // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const SpawnOptions& options) {
    if (argv.empty()) {
        return Err(Error::msg("spawn: empty argv"));
    }
    std::vector<char*> raw;
    raw.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        raw.push_back(const_cast<char*>(a.c_str()));
    }
    raw.push_back(nullptr);
    const pid_t parent = ::getpid();
    RUNVM_ASSIGN_OR_RETURN(const pid_t pid, fork_raw("for " + argv[0]));
    if (pid == 0) {
        exec_child(raw, options, parent);
    }
    return ChildProcess(pid);
}

// Nothing reaped the child yet, so the pid is still this child's when the pidfd is opened.
ChildProcess::ChildProcess(pid_t pid)
    : pid_(pid), pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}

Result<pid_t> ChildProcess::fork_raw(const std::string& what) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        return Err(Error::from_errno("fork " + what));
    }
    return pid;
}

Result<void> ChildProcess::signal(int sig) const {
    if (pid_ <= 0) {
        return Err(Error::with_errno(ESRCH, "kill: no child"));
    }
    const long r = pidfd_ ? ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0)
                          : ::kill(pid_, sig);
    if (r < 0) {
        return Err(Error::from_errno("kill pid " + std::to_string(pid_)));
    }
    return Ok();
}

Result<std::optional<int>>
ChildProcess::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (pid_ <= 0) {
        return Err(Error::with_errno(ECHILD, "waitpid: no child"));
    }
    // Without pidfds (Linux < 5.3) the wait falls back to 10 ms naps.
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            pidfd_.reset();
            return std::optional<int>(status);
        }
        if (r < 0 && errno != EINTR) {
            return Err(Error::from_errno("waitpid " + std::to_string(pid_)));
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return std::optional<int>();
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
        if (pidfd_) {
            pollfd pf{pidfd_.get(), POLLIN, 0};
            (void)::poll(&pf, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left, 10)));
        }
    }
}

Result<int> ChildProcess::wait() {
    if (pid_ <= 0) {
        return Err(Error::with_errno(ECHILD, "waitpid: no child"));
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) {
            return Err(Error::from_errno("waitpid " + std::to_string(pid_)));
        }
    }
    pid_ = -1;
    pidfd_.reset();
    return status;
}

void ChildProcess::kill_and_reap() {
    if (pid_ <= 0) {
        return;
    }
    const int saved = errno;
    (void)signal(SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    pidfd_.reset();
    errno = saved;
}

} // namespace runvm
