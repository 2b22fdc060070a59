// Reaper: signalfd-driven waitpid(-1) loop with per-pid exit records.
#include "guest_agent/pid1/reaper.hpp"

#include <cerrno>
#include <csignal>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runvm::agent {

namespace {
// Unclaimed exits (orphans, processes nobody waits for) kept at most; oldest dropped first.
constexpr size_t kMaxRecords = 4096;
} // namespace

Result<void> Reaper::block_sigchld() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
        return Err(Error::with_errno(rc, "pthread_sigmask block SIGCHLD"));
    }
    return Ok();
}

Result<std::unique_ptr<Reaper>> Reaper::start() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd) {
        return Err(Error::from_errno("signalfd SIGCHLD"));
    }
    UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd) {
        return Err(Error::from_errno("eventfd reaper stop"));
    }
    std::unique_ptr<Reaper> r(new Reaper(std::move(sfd), std::move(efd)));
    r->thread_ = OwnedThread("agent reaper", [p = r.get()] { p->loop(); });
    return r;
}

Reaper::Reaper(UniqueFd signal_fd, UniqueFd stop_fd)
    : signal_fd_(std::move(signal_fd)), stop_fd_(std::move(stop_fd)) {}

Reaper::~Reaper() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    thread_.stop_and_join();
}

void Reaper::loop() {
    for (;;) {
        reap_all();
        pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
        // The timeout is a safety net for a SIGCHLD that went to a thread without the mask.
        const int n = ::poll(fds, 2, 500);
        if (n > 0 && (fds[1].revents & POLLIN) != 0) {
            return;
        }
        if (n > 0 && (fds[0].revents & POLLIN) != 0) {
            signalfd_siginfo info;
            while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
            }
        }
    }
}

void Reaper::reap_all() {
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG | __WALL);
        if (pid <= 0) {
            return;
        }
        std::lock_guard lock(mu_);
        records_[pid] = ExitRecord{status, std::chrono::system_clock::now()};
        order_.push_back(pid);
        while (order_.size() > kMaxRecords) {
            records_.erase(order_.front());
            order_.pop_front();
        }
        exited_.notify_all();
    }
}

std::optional<ExitRecord> Reaper::wait(pid_t pid, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    auto has = [&] { return records_.count(pid) != 0; };
    if (timeout.count() < 0) {
        exited_.wait(lock, has);
    } else if (!exited_.wait_for(lock, timeout, has)) {
        return std::nullopt;
    }
    ExitRecord rec = records_[pid];
    records_.erase(pid);
    std::erase(order_, pid);
    return rec;
}

std::optional<ExitRecord> Reaper::peek(pid_t pid) {
    std::lock_guard lock(mu_);
    auto it = records_.find(pid);
    if (it == records_.end()) {
        return std::nullopt;
    }
    return it->second;
}

int shell_exit_status(int wait_status) {
    if (WIFSIGNALED(wait_status)) {
        return 128 + WTERMSIG(wait_status);
    }
    return WEXITSTATUS(wait_status);
}

} // namespace runvm::agent
