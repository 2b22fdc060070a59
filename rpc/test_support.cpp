// Shared rpc test helpers.
#include "rpc/test_support.hpp"

#include <cerrno>
#include <thread>

namespace runvm::rpc::test {

void register_test_handlers(Server& server) {
    server.register_method("test.Echo", "Echo",
                           [](const CallContext&, std::string_view req, std::string& resp) {
                               resp.assign(req);
                               return Status{};
                           });
    // The request is "<code>:<message>".
    server.register_method("test.Echo", "Fail",
                           [](const CallContext&, std::string_view req, std::string& resp) {
                               resp = "must not be sent";
                               const auto colon = req.find(':');
                               return Status{std::stoi(std::string(req.substr(0, colon))),
                                             std::string(req.substr(colon + 1))};
                           });
    // Sleeps the number of milliseconds in the request, or until cancelled.
    server.register_method(
        "test.Echo", "Sleep", [](const CallContext& ctx, std::string_view req, std::string& resp) {
            const auto until = std::chrono::steady_clock::now() +
                               std::chrono::milliseconds(std::stoi(std::string(req)));
            while (std::chrono::steady_clock::now() < until) {
                if (ctx.cancelled()) {
                    return Status{kCancelled, "cancelled"};
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            resp = "slept";
            return Status{};
        });
}

Harness::Harness(ServerOptions options) : server(std::make_unique<Server>(options)) {
    register_test_handlers(*server);
    if (!server->start()) {
        std::abort();
    }
    auto [a, b] = socket_pair();
    if (!server->serve_connection(std::move(a))) {
        std::abort();
    }
    client = std::make_unique<Client>(std::move(b));
}

UniqueFd Harness::connect_raw() {
    auto [a, b] = socket_pair();
    if (!server->serve_connection(std::move(a))) {
        std::abort();
    }
    timeval tv{2, 0};
    ::setsockopt(b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return std::move(b);
}

bool send_raw(int fd, uint32_t stream_id, uint8_t type, std::string_view body,
              uint32_t length_override) {
    uint8_t header[kFrameHeaderSize];
    const uint32_t length = length_override ? length_override : static_cast<uint32_t>(body.size());
    encode_header(FrameHeader{length, stream_id, type, 0}, header);
    std::string frame(reinterpret_cast<const char*>(header), sizeof header);
    frame.append(body);
    size_t done = 0;
    while (done < frame.size()) {
        // MSG_NOSIGNAL: the server closing first must not kill the test with SIGPIPE.
        const ssize_t n = ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EPIPE || errno == ECONNRESET) {
                return false;
            }
            std::abort();
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

std::optional<RawResponse> recv_raw(int fd) {
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t header[kFrameHeaderSize];
    auto got = read_exact(fd, header, sizeof header, "raw test socket");
    if (!got.ok() || !*got) {
        return std::nullopt;
    }
    RawResponse out;
    out.header = decode_header(header);
    std::string body(out.header.length, '\0');
    auto body_read = read_exact(fd, body.data(), body.size(), "raw test socket");
    if (!body.empty() && (!body_read.ok() || !*body_read)) {
        return std::nullopt;
    }
    auto decoded = decode_response(body);
    if (!decoded.ok()) {
        return std::nullopt;
    }
    out.response = std::move(decoded).value();
    return out;
}

} // namespace runvm::rpc::test
