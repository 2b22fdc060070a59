// ChildProcess: fork/exec, timed wait, kill and reap.
#include "base/child_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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
    const pid_t pid = ::fork();
    if (pid < 0) {
        return Err(Error::from_errno("fork for " + argv[0]));
    }
    if (pid == 0) {
        exec_child(raw, options, parent);
    }
    return ChildProcess(pid);
}

Result<void> ChildProcess::signal(int sig) const {
    if (pid_ <= 0) {
        return Err(Error::with_errno(ESRCH, "kill: no child"));
    }
    if (::kill(pid_, sig) < 0) {
        return Err(Error::from_errno("kill pid " + std::to_string(pid_)));
    }
    return Ok();
}

Result<std::optional<int>> ChildProcess::wait_for(int timeout_ms) {
    if (pid_ <= 0) {
        return Err(Error::with_errno(ECHILD, "waitpid: no child"));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return std::optional<int>(status);
        }
        if (r < 0 && errno != EINTR) {
            return Err(Error::from_errno("waitpid " + std::to_string(pid_)));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::optional<int>();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void ChildProcess::kill_and_reap() {
    if (pid_ <= 0) {
        return;
    }
    const int saved = errno;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    errno = saved;
}

} // namespace runvm
