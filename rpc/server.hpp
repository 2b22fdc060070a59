// ttRPC server: dispatches requests from Unix-socket (or any stream-fd) connections to
// registered handlers on a worker pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "rpc/call_context.hpp"
#include "rpc/status.hpp"

namespace runvm::rpc {

// Fills `response` (a serialized protobuf message) and returns the call's status. The
// response payload is sent only with an ok status, like containerd/ttrpc does.
using RawHandler =
    std::function<Status(const CallContext& ctx, std::string_view request, std::string& response)>;

struct ServerOptions {
    // A connection's reader runs each handler itself; a handler still running after
    // `handoff_after` makes a pool thread take over reading that connection, so calls
    // behind a slow one wait at most about twice this long to start.
    std::chrono::microseconds handoff_after{1000};
    // The pool of threads that take over reading: `workers` start with the server, more are
    // added while every one is busy, up to `max_workers`.
    size_t workers = 4;
    size_t max_workers = 256;
    // A peer that stops reading makes writes block: after this long the connection is
    // dropped (SO_SNDTIMEO on socket fds).
    std::chrono::milliseconds write_timeout{10000};
    // Hand-offs waiting for a pool thread; over it the connection is closed.
    size_t max_queued_requests = 4096;
};

class Server {
public:
    explicit Server(ServerOptions options = {});
    ~Server(); // shutdown()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Registers before or after start(); a second registration of the same name replaces
    // the first.
    void register_method(std::string service, std::string method, RawHandler handler);

    // Parses Req from the request (InvalidArgument when it does not parse), calls `fn`,
    // serializes Resp when the status is ok.
    template <typename Req, typename Resp>
    void register_typed(std::string service, std::string method,
                        std::function<Status(const CallContext&, const Req&, Resp&)> fn) {
        register_method(
            std::move(service), std::move(method),
            [fn = std::move(fn)](const CallContext& ctx, std::string_view request,
                                 std::string& response) -> Status {
                Req req;
                if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
                    return Status{kInvalidArgument, "unmarshal request " + req.GetTypeName()};
                }
                Resp resp;
                Status st = fn(ctx, req, resp);
                if (st.ok() && !resp.SerializeToString(&response)) {
                    return Status{kInternal, "marshal response " + resp.GetTypeName()};
                }
                return st;
            });
    }

    // Binds and listens on `path` (a stale socket file there is removed); the socket is
    // unlinked again on shutdown. Connections are accepted once start() runs.
    Result<void> listen_unix(const std::string& path);

    // Serves an already-connected stream fd (a socketpair end, an accepted vsock, ...).
    // Before start() the connection waits for it.
    Result<void> serve_connection(UniqueFd fd);

    // Starts the workers and the accept loop.
    Result<void> start();

    // Stops accepting, closes every connection, waits for running handlers and joins every
    // thread. Idempotent.
    void shutdown();

    // Connections currently served (for tests and diagnostics).
    size_t connection_count() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace runvm::rpc
