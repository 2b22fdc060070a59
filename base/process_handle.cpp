// ProcessHandle: pidfd_open, the start-time check against /proc/<pid>/stat, pidfd signals.
#include "base/process_handle.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/io.hpp"

namespace runvm {

namespace {

std::string pid_text(pid_t pid) {
    return "pid " + std::to_string(pid);
}

Error gone(pid_t pid, const std::string& why) {
    return Error::with_errno(ESRCH, pid_text(pid) + ": " + why);
}

Result<UniqueFd> pidfd_open(pid_t pid) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!fd) {
        if (errno == ESRCH) {
            return Err(gone(pid, "no such process"));
        }
        return Err(Error::from_errno("pidfd_open " + pid_text(pid)));
    }
    return fd;
}

} // namespace

Result<uint64_t> ProcessHandle::start_time(pid_t pid) {
    if (pid <= 0) {
        return Err(gone(pid, "not a process id"));
    }
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) {
        if (stat.error().code() == ENOENT || stat.error().code() == ESRCH) {
            return Err(gone(pid, "no such process"));
        }
        return Err(std::move(stat).error());
    }
    // "pid (comm) state ppid ...": comm may hold spaces and ')', so fields count from the
    // last ')'; the state is field 3, the start time field 22.
    size_t at = stat->rfind(')');
    for (int field = 2; field < 22 && at != std::string::npos; ++field) {
        at = stat->find(' ', at + 1);
    }
    if (at == std::string::npos) {
        return Err(Error::msg("/proc/" + std::to_string(pid) + "/stat: no field 22"));
    }
    return std::strtoull(stat->c_str() + at + 1, nullptr, 10);
}

Result<ProcessHandle> ProcessHandle::open(pid_t pid, uint64_t start_time) {
    if (pid <= 0) {
        return Err(gone(pid, "not a process id"));
    }
    if (start_time == 0) {
        return Err(gone(pid, "no start time recorded with it, so it cannot be told from a "
                             "later process that reused the pid"));
    }
    // The pidfd first, the start time after: a match then proves that the pidfd's process
    // is the recorded one (a pid only ever passes to later processes).
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, pidfd_open(pid));
    RUNVM_ASSIGN_OR_RETURN(const uint64_t now, ProcessHandle::start_time(pid));
    if (now != start_time) {
        return Err(gone(pid, "start time " + std::to_string(now) + " is not the recorded " +
                                 std::to_string(start_time) + " (the pid was reused)"));
    }
    ProcessHandle h(pid, std::move(fd));
    if (h.exited()) {
        return Err(gone(pid, "exited"));
    }
    return h;
}

Result<ProcessHandle> ProcessHandle::open_child(pid_t pid) {
    if (pid <= 0) {
        return Err(gone(pid, "not a process id"));
    }
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, pidfd_open(pid));
    return ProcessHandle(pid, std::move(fd));
}

Result<void> ProcessHandle::signal(int sig) const {
    if (!pidfd_) {
        return Err(gone(pid_, "no process handle"));
    }
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0) {
        if (errno == ESRCH) {
            return Err(gone(pid_, "exited"));
        }
        return Err(Error::from_errno("pidfd_send_signal " + std::to_string(sig) + " to " +
                                     pid_text(pid_)));
    }
    return Ok();
}

bool ProcessHandle::wait_exit_until(std::chrono::steady_clock::time_point deadline) const {
    if (!pidfd_) {
        return true;
    }
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd pf{pidfd_.get(), POLLIN, 0};
        const int n = ::poll(&pf, 1, static_cast<int>(std::clamp<long long>(left, 0, INT_MAX)));
        if (n > 0) {
            return true;
        }
        if ((n == 0 && left <= 0) || (n < 0 && errno != EINTR)) {
            return false;
        }
    }
}

} // namespace runvm
