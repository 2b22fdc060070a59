// Process exit bookkeeping and container status.
#include "guest_agent/service/container_state.hpp"

namespace runvm::agent {

namespace {
// How long an exit waits for its output to reach a host that reads none.
constexpr auto kExitFlushTimeout = std::chrono::seconds(5);
constexpr auto kFlushSlice = std::chrono::milliseconds(200);
} // namespace

ProcessState::~ProcessState() {
    stop_ = true;
    watcher_.stop_and_join();
}

void ProcessState::watch(Reaper& reaper) {
    watcher_ = OwnedThread("exit watcher", [this, &reaper, p = pid] {
        std::optional<ExitRecord> rec;
        while (!rec && !stop_) {
            rec = reaper.wait(p, std::chrono::milliseconds(500));
        }
        const auto deadline = std::chrono::steady_clock::now() + kExitFlushTimeout;
        while (rec && stdio && !stop_ && !stdio->flush(kFlushSlice) &&
               std::chrono::steady_clock::now() < deadline) {
        }
        std::lock_guard lock(mu);
        exit_ = rec;
        exited_cv_.notify_all();
    });
}

std::optional<ExitRecord> ProcessState::wait_exit(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    auto done = [&] { return exit_.has_value(); };
    if (timeout.count() < 0) {
        exited_cv_.wait(lock, done);
    } else {
        exited_cv_.wait_for(lock, timeout, done);
    }
    return exit_;
}

bool ProcessState::exited() {
    std::lock_guard lock(mu);
    return exit_.has_value();
}

ContainerStatus ContainerState::status() const {
    if (!init || init->exited()) {
        return ContainerStatus::stopped;
    }
    std::lock_guard lock(init->mu);
    if (init->launch) {
        return ContainerStatus::created;
    }
    return paused ? ContainerStatus::paused : ContainerStatus::running;
}

std::shared_ptr<ProcessState> ContainerState::find(const std::string& exec_id) const {
    if (exec_id.empty()) {
        return init;
    }
    auto it = execs.find(exec_id);
    return it == execs.end() ? nullptr : it->second;
}

} // namespace runvm::agent
