// Runs the hypervisor program as an owned child with its output in a log file.
#include "shim/hypervisor/process_backend.hpp"

#include <csignal>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace runvm::shim {

Result<void> ProcessBackend::set_log(const VmConfig& config, std::string log) {
    log_path_ = std::move(log);
    output_path_.clear();
    if (config.log_writer && log_path_ != "/dev/null") {
        RUNVM_ASSIGN_OR_RETURN(output_path_, config.log_writer(log_path_));
    }
    return Ok();
}

Result<void> ProcessBackend::resolve_jail_user(const VmConfig& config,
                                               const std::vector<std::string>& groups) {
    RUNVM_ASSIGN_OR_RETURN(jail_user_,
                           jail::resolve_credentials(config.settings.jail_user, groups));
    if (config.jail_ids.first != 0) {
        jail_user_.uid = config.jail_ids.first;
        jail_user_.gid = config.jail_ids.second;
    }
    return Ok();
}

Result<std::string> ProcessBackend::hand_over(UniqueFd fd, const std::string& what) {
    if (::fchown(fd.get(), jail_user_.uid, jail_user_.gid) != 0) {
        return Err(Error::from_errno("fchown " + what + " to the jail user"));
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd.get());
    handed_.push_back(std::move(fd));
    return path;
}

Result<std::string> ProcessBackend::hand_over(const std::string& path, int flags,
                                              const std::string& what) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + what + " " + path));
    }
    return hand_over(std::move(fd), what);
}

Result<int> ProcessBackend::inherit(int fd, const std::string& what) {
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy) {
        return Err(Error::from_errno("dup " + what));
    }
    const int number = copy.get();
    handed_.push_back(std::move(copy));
    return number;
}

std::vector<int> ProcessBackend::handed_fds() const {
    std::vector<int> fds;
    for (const UniqueFd& fd : handed_) {
        fds.push_back(fd.get());
    }
    return fds;
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
    // The handed fds cross this exec only: FD_CLOEXEC off for the spawn, then closed here.
    for (const UniqueFd& fd : handed_) {
        if (::fcntl(fd.get(), F_SETFD, 0) != 0) {
            return Err(Error::from_errno("fcntl F_SETFD handed fd " + std::to_string(fd.get())));
        }
    }
    auto spawned = ChildProcess::spawn(argv_, options);
    handed_.clear();
    RUNVM_ASSIGN_OR_RETURN(child_, std::move(spawned));
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
