// Runs the hypervisor program as an owned child with its output in a log file.
#include "shim/hypervisor/process_backend.hpp"

#include <csignal>

#include <spdlog/spdlog.h>

namespace runvm::shim {

Result<void> ProcessBackend::set_log(const VmConfig& config, std::string log) {
    log_path_ = std::move(log);
    output_path_.clear();
    if (config.log_writer && log_path_ != "/dev/null") {
        RUNVM_ASSIGN_OR_RETURN(output_path_, config.log_writer(log_path_));
    }
    return Ok();
}

Result<void> ProcessBackend::start() {
    if (argv_.empty()) {
        return Err(Error::msg(name() + ": start before prepare"));
    }
    SpawnOptions options;
    options.die_with_parent = true;
    options.stdin_null = stdin_null_;
    options.stdout_path = output_path_.empty() ? log_path_ : output_path_;
    options.stderr_path = options.stdout_path;
    RUNVM_ASSIGN_OR_RETURN(child_, ChildProcess::spawn(argv_, options));
    spdlog::debug("{}: started pid {}", name(), child_.pid());
    return Ok();
}

Result<std::optional<int>> ProcessBackend::wait(std::chrono::milliseconds timeout) {
    if (!child_.running()) {
        return Err(Error::with_errno(ECHILD, name() + ": not running"));
    }
    return child_.wait_for(static_cast<int>(timeout.count()));
}

void ProcessBackend::stop(std::chrono::milliseconds grace) {
    if (!child_.running()) {
        return;
    }
    if (grace.count() > 0 && child_.signal(SIGTERM).ok()) {
        auto exited = child_.wait_for(static_cast<int>(grace.count()));
        if (exited.ok() && exited->has_value()) {
            return;
        }
    }
    child_.kill_and_reap();
}

} // namespace runvm::shim
