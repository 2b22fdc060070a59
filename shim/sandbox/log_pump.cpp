// LogPump: poll on the pipes and a stop doorbell; each readable pipe is read until it is empty.
#include "shim/sandbox/log_pump.hpp"

#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace runvm::shim {

Result<std::string> LogPump::add(const std::string& file) {
    if (thread_.joinable()) {
        return Err(Error::msg("log pump: add " + file + " after start"));
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe2 for " + file));
    }
    auto pipe = std::make_unique<Pipe>();
    pipe->read_end.reset(fds[0]);
    pipe->write_end.reset(fds[1]);
    if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
        return Err(Error::from_errno("fcntl O_NONBLOCK for " + file));
    }
    RUNVM_ASSIGN_OR_RETURN(pipe->log, CappedLog::open(file, max_bytes_));
    const std::string path =
        "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(pipe->write_end.get());
    pipes_.push_back(std::move(pipe));
    return path;
}

Result<void> LogPump::start() {
    RUNVM_ASSIGN_OR_RETURN(wake_, EventFd::create());
    ThreadOptions options;
    options.wake = [this] { (void)wake_.signal(); };
    RUNVM_ASSIGN_OR_RETURN(
        thread_, OwnedThread::start(
                     "log-pump",
                     [this](const OwnedThread::StopToken& stop) {
                         std::vector<struct pollfd> fds;
                         fds.push_back({wake_.get(), POLLIN, 0});
                         for (const auto& p : pipes_) {
                             fds.push_back({p->read_end.get(), POLLIN, 0});
                         }
                         while (!stop.stop_requested()) {
                             if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
                                 spdlog::warn("log pump: poll: {}", std::strerror(errno));
                                 return;
                             }
                             wake_.drain();
                             drain();
                         }
                     },
                     std::move(options)));
    return Ok();
}

void LogPump::drain() {
    std::lock_guard lock(mu_);
    drain_locked();
}

void LogPump::drain_locked() {
    char buf[64 * 1024];
    for (auto& p : pipes_) {
        for (;;) {
            const ssize_t n = ::read(p->read_end.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break; // EAGAIN: empty for now
            }
            // A full disk loses log output, never the guest: the pipe is drained regardless.
            if (auto r = p->log.append({buf, static_cast<size_t>(n)}); !r && !p->warned) {
                p->warned = true;
                spdlog::warn("log pump: {}", r.error().str());
            }
        }
    }
}

void LogPump::stop() {
    if (thread_.joinable()) {
        thread_.stop_and_join();
    }
    drain();
}

} // namespace runvm::shim
