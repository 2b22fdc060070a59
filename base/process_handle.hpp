// ProcessHandle: a pidfd on a process this code does not reap: a child handed to another
// reaper, or a pid read back from a state file. Signals go through the pidfd, so they reach
// the process the handle was opened on or nobody, never a later process that reused the pid.
#pragma once

#include <chrono>
#include <cstdint>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

class ProcessHandle {
public:
    ProcessHandle() = default;

    // Field 22 of /proc/<pid>/stat (clock ticks after boot): with the pid, it names one
    // process for as long as the machine runs. ESRCH once the pid is gone.
    static Result<uint64_t> start_time(pid_t pid);

    // The process `pid` if it is still the one that started at `start_time` and has not
    // exited; ESRCH naming the pid and the reason otherwise (exited, a zombie, or the pid
    // now another process's).
    static Result<ProcessHandle> open(pid_t pid, uint64_t start_time);

    // A child of this process that nobody reaped yet, whose pid therefore cannot be reused.
    static Result<ProcessHandle> open_child(pid_t pid);

    pid_t pid() const { return pid_; }
    bool valid() const { return pidfd_.valid(); }

    // pidfd_send_signal; ESRCH once the process exited.
    Result<void> signal(int sig) const;
    // Exited (a zombie included): the pidfd polls readable.
    bool exited() const { return wait_exit_until(std::chrono::steady_clock::time_point{}); }
    // Sleeps on the pidfd until the process exits or the deadline passes; true once exited.
    bool wait_exit_until(std::chrono::steady_clock::time_point deadline) const;

private:
    friend class ChildProcess; // release_handle() hands its pidfd over
    ProcessHandle(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
    pid_t pid_ = -1;
    UniqueFd pidfd_;
};

} // namespace runvm
