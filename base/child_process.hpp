// ChildProcess: the one owner of a spawned child process; drop kills (SIGKILL) and reaps it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "base/process_handle.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

struct SpawnOptions {
    // The child gets SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG).
    bool die_with_parent = true;
    bool stdin_null = false;
    std::string stdout_path; // empty: inherit
    std::string stderr_path; // empty: inherit
};

class ChildProcess {
public:
    ChildProcess() = default;
    ~ChildProcess() { kill_and_reap(); }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess(ChildProcess&& o) noexcept
        : pid_(std::exchange(o.pid_, -1)), pidfd_(std::move(o.pidfd_)) {}
    ChildProcess& operator=(ChildProcess&& o) noexcept {
        if (this != &o) {
            kill_and_reap();
            pid_ = std::exchange(o.pid_, -1);
            pidfd_ = std::move(o.pidfd_);
        }
        return *this;
    }

    // argv[0] is looked up in PATH (execvp); an exec failure shows as exit status 127.
    static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                      const SpawnOptions& options = {});
    // Forks; the child runs `child_main` and _exits with the int it returns (0 when it
    // returns nothing). The parent may have threads, so the child keeps to
    // async-signal-safe calls unless it execs. `what` names the child in the error.
    template <class Fn>
    static Result<ChildProcess> fork_child(const std::string& what, Fn&& child_main) {
        RUNVM_ASSIGN_OR_RETURN(const pid_t pid, fork_raw(what));
        if (pid == 0) {
            if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
                child_main();
                ::_exit(0);
            } else {
                ::_exit(static_cast<int>(child_main()));
            }
        }
        return ChildProcess(pid);
    }

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }

    // Through the pidfd opened at the fork (kill() where the kernel has none): a reaper
    // elsewhere in the process (waitpid(-1)) cannot turn it into a signal to a reused pid.
    Result<void> signal(int sig) const;
    // The raw wait status once the child exited, nullopt when the deadline passed first
    // (the child is still owned). Sleeps on a pidfd, so an exit is seen at once.
    Result<std::optional<int>> wait_until(std::chrono::steady_clock::time_point deadline);
    Result<std::optional<int>> wait_for(int timeout_ms) {
        return wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms));
    }
    // The raw wait status, however long the child takes.
    Result<int> wait();

    // SIGKILL and reap; a no-op once the child was reaped or released.
    void kill_and_reap();
    // Gives up ownership: whoever takes the pid reaps it (the guest's Reaper, a parent that
    // _exits and leaves the child to init, a caller that records the pid).
    [[nodiscard]] pid_t release() {
        pidfd_.reset();
        return std::exchange(pid_, -1);
    }
    // The same, keeping the pidfd: the new reaper's pid, and signals that cannot reach
    // whoever gets the pid after it.
    [[nodiscard]] ProcessHandle release_handle() {
        return ProcessHandle(std::exchange(pid_, -1), std::move(pidfd_));
    }

private:
    explicit ChildProcess(pid_t pid);
    // fork(): the child's pid in the parent, 0 in the child.
    static Result<pid_t> fork_raw(const std::string& what);
    pid_t pid_ = -1;
    UniqueFd pidfd_; // invalid without pidfds (Linux < 5.3)
};

} // namespace runvm
