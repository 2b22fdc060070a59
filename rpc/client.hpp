// ttRPC client: many threads call concurrently over one connection; one reader thread
// hands each response to its waiting caller by stream id.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "rpc/call_context.hpp"
#include "rpc/status.hpp"

namespace runvm::rpc {

struct CallOptions {
    // 0: no deadline is sent and the call waits until the response or connection loss.
    std::chrono::nanoseconds timeout{0};
    Metadata metadata;
};

class Client {
public:
    // Connects with a deadline (a full listen backlog makes connect() wait).
    static Result<Client> connect_unix(const std::string& path, std::chrono::milliseconds timeout);

    explicit Client(UniqueFd connected_fd);
    ~Client(); // close(): fails pending calls with Unavailable, joins the reader
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Serializes `req`, parses the response payload into `resp` (when non-null and the
    // status is ok). Errors of the transport come back as a Status too: Unavailable
    // (connection lost), DeadlineExceeded, ResourceExhausted (over 4 MiB), Internal.
    Status call(std::string_view service, std::string_view method,
                const google::protobuf::MessageLite& req, google::protobuf::MessageLite* resp,
                const CallOptions& opts = {});

    Status call_raw(std::string_view service, std::string_view method, std::string_view payload,
                    std::string& response, const CallOptions& opts = {});

    // False once the connection is lost or closed.
    bool connected() const;

    // Shuts the connection down and fails pending calls with Unavailable. Idempotent.
    void close();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace runvm::rpc
