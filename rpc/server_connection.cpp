// Serving one ttRPC connection: read frames, answer protocol-level errors inline, run
// handlers on the worker pool, write responses under the connection's write lock.
#include <chrono>
#include <exception>

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "rpc/frame_io.hpp"
#include "rpc/server_impl.hpp"

namespace runvm::rpc {

std::string handler_key(std::string_view service, std::string_view method) {
    std::string key;
    key.reserve(service.size() + method.size() + 2);
    key.append("/").append(service).append("/").append(method);
    return key;
}

void Connection::send_response(uint32_t stream_id, const Status& status, std::string_view payload) {
    EncodedBody body = encode_response(status, payload);
    if (body.size() > kMaxMessageLength) {
        // Sent, it would be discarded by the client anyway; say why instead.
        body = encode_response(
            Status{kResourceExhausted, "response of " + std::to_string(body.size()) +
                                           " bytes exceeds maximum message size of " +
                                           std::to_string(kMaxMessageLength)},
            {});
    }
    Result<void> written = Ok();
    {
        std::lock_guard lock(write_mu);
        if (closed->load()) {
            return;
        }
        written = write_frame(fd.get(), stream_id, FrameType::response, body, what.c_str());
    }
    if (!written) {
        spdlog::warn("ttrpc: closing {}: response on stream {}: {}", what, stream_id,
                     written.error().str());
        close();
    }
}

void Connection::close() {
    closed->store(true);
    ::shutdown(fd.get(), SHUT_RDWR);
}

void Server::Impl::read_loop(const std::shared_ptr<Connection>& conn, uint64_t epoch) {
    for (;;) {
        auto event = conn->frames->next();
        if (!event) {
            if (!conn->closed->load()) {
                spdlog::warn("ttrpc: closing {}: {}", conn->what, event.error().str());
            }
            break;
        }
        if (event->kind == ReadEvent::Kind::eof) {
            spdlog::debug("ttrpc: {} closed by the client", conn->what);
            break;
        }
        const uint32_t stream_id = event->header.stream_id;
        if (event->kind == ReadEvent::Kind::oversize) {
            // containerd/ttrpc's wording, so clients see the same message from either server.
            conn->send_response(stream_id,
                                Status{kResourceExhausted,
                                       "message length " + std::to_string(event->header.length) +
                                           " exceed maximum message size of " +
                                           std::to_string(kMaxMessageLength)},
                                {});
            continue;
        }
        auto request = decode_request(event->payload);
        if (!request) {
            spdlog::warn("ttrpc: closing {}: malformed request on stream {}: {}", conn->what,
                         stream_id, request.error().str());
            break;
        }
        {
            std::lock_guard lock(conn->role_mu);
            conn->in_call = true;
            conn->call_started = std::chrono::steady_clock::now();
        }
        wake_watchdog();
        serve_call(conn, stream_id, std::move(request).value());
        std::lock_guard lock(conn->role_mu);
        if (conn->epoch != epoch) {
            return; // the watchdog gave reading to another thread during the call
        }
        conn->in_call = false;
    }
    conn->close();
    conn->finished.store(true);
}

void Server::Impl::serve_call(const std::shared_ptr<Connection>& conn, uint32_t stream_id,
                              DecodedRequest request) {
    auto handler = find_handler(request.service, request.method);
    if (!handler) {
        conn->send_response(stream_id,
                            Status{kUnimplemented, "method " + request.method + " of service " +
                                                       request.service + " is not implemented"},
                            {});
        return;
    }
    CallContext ctx;
    ctx.stream_id = stream_id;
    ctx.cancel_flag = conn->closed;
    if (request.timeout_nano > 0) {
        ctx.deadline = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::nanoseconds(request.timeout_nano));
    }
    ctx.metadata = std::move(request.metadata);
    std::string response;
    Status status;
    try {
        status = (*handler)(ctx, request.payload, response);
    } catch (const std::exception& e) {
        status = Status{kInternal, "handler of " + request.method + " threw: " + e.what()};
    } catch (...) {
        status = Status{kInternal, "handler of " + request.method + " threw"};
    }
    conn->send_response(stream_id, status, response);
}

} // namespace runvm::rpc
