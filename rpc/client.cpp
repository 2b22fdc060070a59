// ttRPC client: callers write their own request frames; one reader thread completes the
// pending call of each response by stream id.
#include "rpc/client.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "rpc/frame_io.hpp"
#include "rpc/message.hpp"
#include "rpc/unix_socket.hpp"

namespace runvm::rpc {

namespace {

// A server that stops reading our requests fails the connection after this long.
constexpr std::chrono::milliseconds kSendTimeout{10000};

struct PendingCall {
    std::condition_variable cv;
    bool done = false;
    Status status;
    std::string payload;
};

} // namespace

struct Client::Impl {
    UniqueFd fd;
    std::string what;
    std::mutex write_mu;

    std::mutex mu; // guards everything below
    std::unordered_map<uint32_t, PendingCall*> pending;
    uint32_t next_stream_id = 1;
    bool broken = false;
    std::string broken_reason;

    std::thread reader;
    std::atomic<bool> closing{false};

    void read_loop();
    void complete(uint32_t stream_id, Status status, std::string payload);
    void fail_all(const std::string& reason);
    void break_connection(const std::string& reason);
};

void Client::Impl::complete(uint32_t stream_id, Status status, std::string payload) {
    std::lock_guard lock(mu);
    auto it = pending.find(stream_id);
    if (it == pending.end()) {
        // The caller gave up (deadline) before the response came.
        spdlog::debug("ttrpc: {}: dropping late response on stream {}", what, stream_id);
        return;
    }
    PendingCall* call = it->second;
    pending.erase(it);
    call->status = std::move(status);
    call->payload = std::move(payload);
    call->done = true;
    call->cv.notify_one();
}

void Client::Impl::fail_all(const std::string& reason) {
    std::lock_guard lock(mu);
    if (!broken) {
        broken = true;
        broken_reason = reason;
    }
    for (auto& [id, call] : pending) {
        call->status = Status{kUnavailable, "ttrpc connection lost: " + broken_reason};
        call->done = true;
        call->cv.notify_one();
    }
    pending.clear();
}

void Client::Impl::break_connection(const std::string& reason) {
    ::shutdown(fd.get(), SHUT_RDWR);
    fail_all(reason);
}

void Client::Impl::read_loop() {
    FrameReader frames(fd.get(), Receiver::client, what);
    std::string reason;
    for (;;) {
        auto event = frames.next();
        if (!event) {
            reason = event.error().str();
            if (!closing.load()) {
                spdlog::warn("ttrpc: closing {}: {}", what, reason);
            }
            break;
        }
        if (event->kind == ReadEvent::Kind::eof) {
            reason = "closed by the server";
            break;
        }
        const uint32_t stream_id = event->header.stream_id;
        if (event->kind == ReadEvent::Kind::oversize) {
            complete(stream_id,
                     Status{kResourceExhausted, "message length " +
                                                    std::to_string(event->header.length) +
                                                    " exceed maximum message size of " +
                                                    std::to_string(kMaxMessageLength)},
                     {});
            continue;
        }
        auto response = decode_response(event->payload);
        if (!response) {
            reason = "malformed response on stream " + std::to_string(stream_id) + ": " +
                     response.error().str();
            spdlog::warn("ttrpc: closing {}: {}", what, reason);
            break;
        }
        complete(stream_id, std::move(response->status), std::move(response->payload));
    }
    if (closing.load()) {
        reason = "client closed";
    }
    break_connection(reason);
}

Result<Client> Client::connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, connect_unix_socket(path, timeout));
    return Client(std::move(fd));
}

Client::Client(UniqueFd connected_fd) : impl_(std::make_unique<Impl>()) {
    impl_->what = "ttrpc client connection fd " + std::to_string(connected_fd.get());
    impl_->fd = std::move(connected_fd);
    if (auto r = set_send_timeout(impl_->fd.get(), kSendTimeout); !r) {
        spdlog::warn("ttrpc: {}: {}", impl_->what, r.error().str());
    }
    impl_->reader = std::thread([impl = impl_.get()] { impl->read_loop(); });
}

Client::~Client() {
    close();
}

Client::Client(Client&&) noexcept = default;

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void Client::close() {
    if (!impl_) {
        return;
    }
    impl_->closing.store(true);
    ::shutdown(impl_->fd.get(), SHUT_RDWR);
    if (impl_->reader.joinable()) {
        impl_->reader.join();
    }
}

bool Client::connected() const {
    if (!impl_) {
        return false;
    }
    std::lock_guard lock(impl_->mu);
    return !impl_->broken;
}

Status Client::call(std::string_view service, std::string_view method,
                    const google::protobuf::MessageLite& req, google::protobuf::MessageLite* resp,
                    const CallOptions& opts) {
    std::string request;
    if (req.ByteSizeLong() > kMaxMessageLength) {
        return Status{kResourceExhausted, "request " + req.GetTypeName() + " of " +
                                              std::to_string(req.ByteSizeLong()) +
                                              " bytes exceeds maximum message size of " +
                                              std::to_string(kMaxMessageLength)};
    }
    if (!req.SerializeToString(&request)) {
        return Status{kInternal, "marshal request " + req.GetTypeName()};
    }
    std::string response;
    Status status = call_raw(service, method, request, response, opts);
    if (status.ok() && resp != nullptr &&
        !resp->ParseFromArray(response.data(), static_cast<int>(response.size()))) {
        return Status{kInternal,
                      "unmarshal response " + resp->GetTypeName() + " of " + std::string(method)};
    }
    return status;
}

Status Client::call_raw(std::string_view service, std::string_view method, std::string_view payload,
                        std::string& response, const CallOptions& opts) {
    if (!impl_) {
        return Status{kUnavailable, "ttrpc client is moved from"};
    }
    Impl& c = *impl_;
    const int64_t timeout_nano = opts.timeout.count() > 0 ? opts.timeout.count() : 0;
    const EncodedBody body = encode_request(service, method, payload, timeout_nano, opts.metadata);
    if (body.size() > kMaxMessageLength) {
        // containerd/ttrpc's client refuses these before sending too.
        return Status{kResourceExhausted, "request of " + std::to_string(body.size()) +
                                              " bytes exceeds maximum message size of " +
                                              std::to_string(kMaxMessageLength)};
    }
    const auto deadline = std::chrono::steady_clock::now() + opts.timeout;

    PendingCall call;
    uint32_t stream_id;
    {
        std::lock_guard lock(c.mu);
        if (c.broken) {
            return Status{kUnavailable, "ttrpc connection lost: " + c.broken_reason};
        }
        stream_id = c.next_stream_id;
        // Stream ids are odd and increase; after 2^31 calls they wrap past 0 to 1 again.
        c.next_stream_id = stream_id + 2 == 1 ? 1 : stream_id + 2;
        c.pending.emplace(stream_id, &call);
    }
    Result<void> written = Ok();
    {
        std::lock_guard lock(c.write_mu);
        written = write_frame(c.fd.get(), stream_id, FrameType::request, body, c.what.c_str());
    }
    if (!written) {
        c.break_connection(written.error().str());
    }

    std::unique_lock lock(c.mu);
    if (opts.timeout.count() > 0) {
        if (!call.cv.wait_until(lock, deadline, [&] { return call.done; })) {
            c.pending.erase(stream_id);
            return Status{kDeadlineExceeded, std::string(method) + " of " + std::string(service) +
                                                 ": no response within " +
                                                 std::to_string(opts.timeout.count()) + " ns"};
        }
    } else {
        call.cv.wait(lock, [&] { return call.done; });
    }
    response = std::move(call.payload);
    return std::move(call.status);
}

} // namespace runvm::rpc
