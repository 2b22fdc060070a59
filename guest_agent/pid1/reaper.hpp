// Reaper: the one caller of waitpid in the agent; reaps every child (orphans included, as
// PID 1 or subreaper) and hands exit statuses to whoever waits for a pid.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include <sys/types.h>

#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

struct ExitRecord {
    int wait_status = 0; // raw waitpid status
    std::chrono::system_clock::time_point at;
};

class Reaper {
public:
    // Blocks SIGCHLD in the calling thread; call in main() before any thread starts so every
    // thread inherits the mask and the signal reaches only the reaper's signalfd.
    static Result<void> block_sigchld();

    static Result<std::unique_ptr<Reaper>> start();
    ~Reaper();
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Waits until `pid` exited (and takes its record), nullopt when the timeout passed.
    // A negative timeout waits forever.
    std::optional<ExitRecord> wait(pid_t pid, std::chrono::milliseconds timeout);
    // The record of an exited pid without waiting or taking it.
    std::optional<ExitRecord> peek(pid_t pid);

private:
    Reaper(UniqueFd signal_fd, UniqueFd stop_fd);
    void loop();
    void reap_all();

    UniqueFd signal_fd_;
    UniqueFd stop_fd_;
    std::mutex mu_;
    std::condition_variable exited_;
    std::map<pid_t, ExitRecord> records_;
    std::deque<pid_t> order_; // oldest first, bounds records_ when nobody claims them
    OwnedThread thread_;
};

// Exit status as a shell reports it: the exit code, or 128+n when killed by signal n.
int shell_exit_status(int wait_status);

} // namespace runvm::agent
