// Line-delimited JSON with SCM_RIGHTS, bounded in size and time (the peer may be hostile
// only as far as another local user of the runtime, but a stuck one must not hang us).
#include "shim/container/control_channel.hpp"

#include <thread>

#include <poll.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"

namespace runvm::shim {

Result<ControlChannel> ControlChannel::connect(const std::string& path,
                                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto fd = connect_unix(path, false);
        if (fd) {
            return ControlChannel(std::move(*fd));
        }
        // A full backlog answers EAGAIN; anything else is final.
        if (fd.error().code() != EAGAIN || std::chrono::steady_clock::now() > deadline) {
            return Err(std::move(fd).error().context("container monitor"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<void> ControlChannel::send(const nlohmann::json& body, const std::vector<int>& fds) {
    const std::string line = body.dump() + "\n";
    if (fds.empty()) {
        return write_all(fd_.get(), line.data(), line.size(), "control socket");
    }
    return send_with_fds(fd_.get(), line.data(), line.size(), fds, "control socket");
}

Result<ControlMessage> ControlChannel::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            ControlMessage m;
            m.body = nlohmann::json::parse(buffer_.substr(0, nl), nullptr, false);
            buffer_.erase(0, nl + 1);
            if (m.body.is_discarded() || !m.body.is_object()) {
                return Err(
                    Error::with_errno(EPROTO, "control socket: message is not a JSON object"));
            }
            m.fds = std::move(pending_fds_);
            pending_fds_.clear();
            return m;
        }
        if (buffer_.size() > kMaxControlMessage) {
            return Err(Error::with_errno(EMSGSIZE, "control socket: message over 1 MiB"));
        }
        int wait_ms = -1;
        if (timeout.count() > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            if (left <= 0) {
                return Err(Error::with_errno(ETIMEDOUT, "control socket: no reply"));
            }
            wait_ms = static_cast<int>(left);
        }
        pollfd p{fd_.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return Err(Error::from_errno("poll control socket"));
        }
        if (r == 0) {
            continue;
        }
        char buf[4096];
        RUNVM_ASSIGN_OR_RETURN(ReceivedFds got, recv_with_fds(fd_.get(), buf, sizeof buf,
                                                              kMaxControlFds, "control socket"));
        if (got.bytes == 0) {
            return Err(Error::with_errno(ECONNRESET, "control socket: closed by peer"));
        }
        if (got.fds_truncated) {
            return Err(Error::with_errno(EPROTO, "control socket: too many fds"));
        }
        buffer_.append(buf, got.bytes);
        for (auto& f : got.fds) {
            pending_fds_.push_back(std::move(f));
        }
    }
}

Result<nlohmann::json> control_call(const std::string& socket, const nlohmann::json& request,
                                    std::chrono::milliseconds timeout) {
    RUNVM_ASSIGN_OR_RETURN(ControlChannel ch, ControlChannel::connect(socket, timeout));
    RUNVM_TRY(ch.send(request));
    RUNVM_ASSIGN_OR_RETURN(ControlMessage reply, ch.receive(timeout));
    if (reply.body.contains("error") && reply.body["error"].is_string()) {
        return Err(Error::msg(reply.body["error"].get<std::string>()));
    }
    return std::move(reply.body);
}

} // namespace runvm::shim
