// Helpers shared by the rpc unit tests: a started server on a socketpair or Unix socket,
// and raw frame I/O for speaking (broken) ttRPC by hand.
#pragma once

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/io.hpp"
#include "rpc/client.hpp"
#include "rpc/frame.hpp"
#include "rpc/message.hpp"
#include "rpc/server.hpp"

namespace runvm::rpc::test {

inline std::pair<UniqueFd, UniqueFd> socket_pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        std::abort();
    }
    return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

// A fresh directory under /tmp, removed with its sockets at the end of the test.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/runvm-rpc-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            std::abort();
        }
        path_ = tmpl;
    }
    ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Registers the handlers every test uses: echo, fail (status from the request), sleep.
void register_test_handlers(Server& server);

// A started server and one client connected to it over a socketpair.
struct Harness {
    explicit Harness(ServerOptions options = {});
    std::unique_ptr<Server> server;
    std::unique_ptr<Client> client;
    // Another connection to the same server, for raw frames.
    UniqueFd connect_raw();
};

// Sends one frame with the given header fields and body. False when the server has already
// closed the connection (EPIPE, ECONNRESET), which malformed frames provoke on purpose.
bool send_raw(int fd, uint32_t stream_id, uint8_t type, std::string_view body,
              uint32_t length_override = 0);

// Reads one response frame (2 s receive timeout); nullopt at EOF.
struct RawResponse {
    FrameHeader header;
    DecodedResponse response;
};
std::optional<RawResponse> recv_raw(int fd);

} // namespace runvm::rpc::test
