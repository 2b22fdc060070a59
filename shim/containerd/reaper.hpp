// Reaper: the shim is a child subreaper (as containerd's shims are), so container monitors
// that `runvm create` leaves behind become its children; one thread reaps every child and
// hands each exit to whoever waits for that pid.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <sys/types.h>

#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::containerd {

// 128+signal for a killed process, the exit code otherwise (a shell's convention, and
// containerd's).
int exit_code_of(int wait_status);

class Reaper {
public:
    // Blocks SIGCHLD in the calling thread, which must be the only one (threads started
    // later inherit the mask), and sets PR_SET_CHILD_SUBREAPER.
    static Result<std::unique_ptr<Reaper>> start();
    ~Reaper();
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Calls `on_exit(exit code)` once `pid` has exited (at once when it already has). The
    // callback runs on the reaper thread and must not block for long.
    void watch(pid_t pid, std::function<void(int)> on_exit);
    // Waits up to `timeout` for `pid` to exit; its exit code, or nullopt on timeout.
    std::optional<int> wait(pid_t pid, std::chrono::milliseconds timeout);

private:
    Reaper() = default;
    void run();
    void reap_all();

    UniqueFd signal_fd_;
    EventFd stop_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<pid_t, int> exited_; // exits nobody claimed yet
    std::map<pid_t, std::function<void(int)>> watchers_;
    OwnedThread thread_;
};

} // namespace runvm::containerd
