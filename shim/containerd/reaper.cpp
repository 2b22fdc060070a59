// The shim's child reaper: signalfd for SIGCHLD, waitpid(-1) until nothing is left.
#include "shim/containerd/reaper.hpp"

#include <csignal>
#include <cstring>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runvm::containerd {

namespace {
// Exits of pids nobody waits for (helpers' grandchildren) are kept this many at most.
constexpr size_t kMaxUnclaimedExits = 1024;
} // namespace

int exit_code_of(int wait_status) {
    if (WIFSIGNALED(wait_status)) {
        return 128 + WTERMSIG(wait_status);
    }
    return WEXITSTATUS(wait_status);
}

Result<std::unique_ptr<Reaper>> Reaper::start() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_SET_CHILD_SUBREAPER"));
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        return Err(Error::from_errno("pthread_sigmask block SIGCHLD"));
    }
    std::unique_ptr<Reaper> r(new Reaper());
    r->signal_fd_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!r->signal_fd_) {
        return Err(Error::from_errno("signalfd SIGCHLD"));
    }
    RUNVM_ASSIGN_OR_RETURN(r->stop_, EventFd::create());
    r->thread_ = OwnedThread("shim reaper", [raw = r.get()] { raw->run(); });
    return r;
}

Reaper::~Reaper() {
    (void)stop_.signal();
    thread_.stop_and_join();
}

void Reaper::run() {
    for (;;) {
        pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        // The timeout also catches a SIGCHLD that arrived before the signalfd existed.
        const int n = ::poll(fds, 2, 1000);
        if (n < 0 && errno != EINTR) {
            spdlog::error("reaper: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents) {
            return;
        }
        signalfd_siginfo info;
        while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
        }
        reap_all();
    }
}

void Reaper::reap_all() {
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            return;
        }
        const int code = exit_code_of(status);
        spdlog::debug("reaper: pid {} exited with {}", pid, code);
        std::function<void(int)> callback;
        {
            std::lock_guard lock(mu_);
            if (auto w = watchers_.find(pid); w != watchers_.end()) {
                callback = std::move(w->second);
                watchers_.erase(w);
            } else {
                if (exited_.size() >= kMaxUnclaimedExits) {
                    exited_.erase(exited_.begin());
                }
                exited_[pid] = code;
            }
        }
        cv_.notify_all();
        if (callback) {
            callback(code);
        }
    }
}

void Reaper::watch(pid_t pid, std::function<void(int)> on_exit) {
    std::unique_lock lock(mu_);
    if (auto e = exited_.find(pid); e != exited_.end()) {
        const int code = e->second;
        exited_.erase(e);
        lock.unlock();
        on_exit(code);
        return;
    }
    watchers_[pid] = std::move(on_exit);
}

std::optional<int> Reaper::wait(pid_t pid, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return exited_.count(pid) != 0; })) {
        return std::nullopt;
    }
    const int code = exited_[pid];
    exited_.erase(pid);
    return code;
}

} // namespace runvm::containerd
