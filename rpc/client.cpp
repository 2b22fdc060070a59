// ttRPC client: callers write their own request frames; one waiting caller at a time reads
// the socket and completes the pending call of each response by stream id.
#include "rpc/client.hpp"

#include <condition_variable>
#include <mutex>
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
    std::unique_ptr<FrameReader> frames; // only the reading caller touches it

    std::mutex mu; // guards everything below
    std::unordered_map<uint32_t, PendingCall*> pending;
    uint32_t next_stream_id = 1;
    bool reading = false; // a caller holds the reading role
    bool broken = false;
    std::string broken_reason;

    // Reads responses as the role holder until `stream_id` is answered, the deadline
    // passes, or the connection breaks; completes every call whose response it reads.
    void read_for(uint32_t stream_id, FrameReader::Deadline deadline);
    // True when the completed call was `mine`.
    bool complete(uint32_t stream_id, Status status, std::string payload, uint32_t mine);
    void fail_all(const std::string& reason);
    void break_connection(const std::string& reason);
    // Wakes a waiting caller other than `self` to take the reading role; mu held.
    void hand_on_reading(uint32_t self);
};

bool Client::Impl::complete(uint32_t stream_id, Status status, std::string payload, uint32_t mine) {
    std::lock_guard lock(mu);
    auto it = pending.find(stream_id);
    if (it == pending.end()) {
        // The caller gave up (deadline) before the response came.
        spdlog::debug("ttrpc: {}: dropping late response on stream {}", what, stream_id);
        return false;
    }
    PendingCall* call = it->second;
    pending.erase(it);
    call->status = std::move(status);
    call->payload = std::move(payload);
    call->done = true;
    if (stream_id != mine) {
        call->cv.notify_one();
    }
    return stream_id == mine;
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

void Client::Impl::hand_on_reading(uint32_t self) {
    for (auto& [id, call] : pending) {
        if (id != self) {
            call->cv.notify_one();
            return;
        }
    }
}

void Client::Impl::read_for(uint32_t stream_id, FrameReader::Deadline deadline) {
    for (;;) {
        auto event = frames->next(deadline);
        if (!event) {
            const std::string reason = event.error().str();
            bool closed_here;
            {
                std::lock_guard lock(mu);
                closed_here = broken;
            }
            if (!closed_here) {
                spdlog::warn("ttrpc: closing {}: {}", what, reason);
            }
            break_connection(reason);
            return;
        }
        switch (event->kind) {
        case ReadEvent::Kind::timeout:
            return;
        case ReadEvent::Kind::eof:
            break_connection("closed by the server");
            return;
        case ReadEvent::Kind::oversize:
            if (complete(event->header.stream_id,
                         Status{kResourceExhausted, "message length " +
                                                        std::to_string(event->header.length) +
                                                        " exceed maximum message size of " +
                                                        std::to_string(kMaxMessageLength)},
                         {}, stream_id)) {
                // Nobody may read after this caller: skip the body now, so the server is
                // not left blocked writing it.
                if (auto skipped = frames->skip_oversized(
                        deadline.value_or(std::chrono::steady_clock::now() + kSendTimeout));
                    !skipped) {
                    break_connection(skipped.error().str());
                }
                return;
            }
            continue;
        case ReadEvent::Kind::frame:
            break;
        }
        auto response = decode_response(event->payload);
        if (!response) {
            const std::string reason = "malformed response on stream " +
                                       std::to_string(event->header.stream_id) + ": " +
                                       response.error().str();
            spdlog::warn("ttrpc: closing {}: {}", what, reason);
            break_connection(reason);
            return;
        }
        if (complete(event->header.stream_id, std::move(response->status),
                     std::move(response->payload), stream_id)) {
            return;
        }
    }
}

Result<Client> Client::connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, connect_unix_socket(path, timeout));
    return Client(std::move(fd));
}

Client::Client(UniqueFd connected_fd) : impl_(std::make_unique<Impl>()) {
    impl_->what = "ttrpc client connection fd " + std::to_string(connected_fd.get());
    impl_->fd = std::move(connected_fd);
    impl_->frames = std::make_unique<FrameReader>(impl_->fd.get(), Receiver::client, impl_->what);
    if (auto r = set_send_timeout(impl_->fd.get(), kSendTimeout); !r) {
        spdlog::warn("ttrpc: {}: {}", impl_->what, r.error().str());
    }
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
    // A caller blocked in read() as the reading role sees EOF; waiting callers are failed.
    impl_->break_connection("client closed");
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
        // While the socket is full, read responses if no other caller is reading: the
        // server may be blocked writing them to us and so not reading this request.
        auto drain = [&] {
            {
                std::lock_guard state(c.mu);
                if (c.reading) {
                    return;
                }
                c.reading = true;
            }
            c.read_for(stream_id, std::chrono::steady_clock::now());
            std::lock_guard state(c.mu);
            c.reading = false;
            c.hand_on_reading(stream_id);
        };
        written = write_frame(c.fd.get(), stream_id, FrameType::request, body, c.what.c_str(),
                              drain);
    }
    if (!written) {
        c.break_connection(written.error().str());
    }

    FrameReader::Deadline wait_until;
    if (opts.timeout.count() > 0) {
        wait_until = deadline;
    }
    std::unique_lock lock(c.mu);
    // Leader/follower: the first waiting caller reads the socket itself and completes the
    // calls whose responses it meets, so a lone caller never waits for another thread.
    while (!call.done) {
        if (!c.reading) {
            c.reading = true;
            lock.unlock();
            c.read_for(stream_id, wait_until);
            lock.lock();
            c.reading = false;
            c.hand_on_reading(stream_id);
        } else if (wait_until) {
            call.cv.wait_until(lock, *wait_until, [&] { return call.done || !c.reading; });
        } else {
            call.cv.wait(lock, [&] { return call.done || !c.reading; });
        }
        if (!call.done && wait_until && std::chrono::steady_clock::now() >= *wait_until) {
            c.pending.erase(stream_id);
            return Status{kDeadlineExceeded, std::string(method) + " of " + std::string(service) +
                                                 ": no response within " +
                                                 std::to_string(opts.timeout.count()) + " ns"};
        }
    }
    response = std::move(call.payload);
    return std::move(call.status);
}

} // namespace runvm::rpc
