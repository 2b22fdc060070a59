// LogPump: the VM's helpers write their output (the hypervisor's serial console, its stdout and
// stderr, the broker's) into pipes; one thread drains each into a capped file in the VM directory
// (docs/sandbox.md, "Bounded guest output"), so a guest cannot make a host file grow.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/capped_log.hpp"
#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

class LogPump {
public:
    explicit LogPump(uint64_t max_bytes) : max_bytes_(max_bytes) {}
    ~LogPump() { stop(); }
    LogPump(const LogPump&) = delete;
    LogPump& operator=(const LogPump&) = delete;

    // A pipe drained into `file` (CappedLog, max_bytes). Returns the path a writer opens for
    // it, /proc/<this pid>/fd/<write end>: a child opens it before or after its exec. Before
    // start() only.
    [[nodiscard]] Result<std::string> add(const std::string& file);
    [[nodiscard]] Result<void> start();
    // Copies what the pipes hold now (a helper that exited left its last words there).
    void drain();
    // Drains, then ends the thread; the files stay. Idempotent.
    void stop();

private:
    struct Pipe {
        UniqueFd read_end;
        UniqueFd write_end; // kept open: a writer may open the path any time, and none sees EOF
        CappedLog log;
        bool warned = false; // one warning per pipe: a full disk must not flood our own log
    };
    void drain_locked();

    uint64_t max_bytes_;
    std::mutex mu_; // the logs: the thread drains, so do drain() and stop()
    std::vector<std::unique_ptr<Pipe>> pipes_;
    EventFd wake_;
    OwnedThread thread_;
};

} // namespace runvm::shim
