// ChildProcess: the one owner of a spawned child process; drop kills (SIGKILL) and reaps it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"

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
    ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ChildProcess& operator=(ChildProcess&& o) noexcept {
        if (this != &o) {
            kill_and_reap();
            pid_ = std::exchange(o.pid_, -1);
        }
        return *this;
    }

    // argv[0] is looked up in PATH (execvp); an exec failure shows as exit status 127.
    static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                      const SpawnOptions& options = {});

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }

    Result<void> signal(int sig) const;
    // The raw wait status once the child exited, nullopt when timeout_ms passed first.
    Result<std::optional<int>> wait_for(int timeout_ms);

    void kill_and_reap();

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
};

} // namespace runvm
