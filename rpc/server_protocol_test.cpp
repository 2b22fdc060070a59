// The server against hand-made frames: oversize bodies, malformed frames and what they do
// to the connection they arrive on and to the others.
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "rpc/test_support.hpp"

using namespace runvm;
using namespace runvm::rpc;
using namespace runvm::rpc::test;

namespace {

std::string echo_request(std::string_view payload) {
    return encode_request("test.Echo", "Echo", payload, 0, {}).joined();
}

// True when the server closed `fd` without answering: read() sees EOF. The receive
// timeout (2 s, set by connect_raw) makes a connection left open an EAGAIN, so false.
bool closed_by_server(int fd) {
    char byte;
    ssize_t n;
    do {
        n = ::read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

} // namespace

BOOST_AUTO_TEST_CASE(raw_request_round_trip) {
    Harness h;
    UniqueFd raw = h.connect_raw();
    BOOST_REQUIRE(send_raw(raw.get(), 5, 1, echo_request("raw")));
    auto r = recv_raw(raw.get());
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->header.stream_id == 5u);
    BOOST_TEST(r->header.type == 2);
    BOOST_TEST(r->response.status.ok());
    BOOST_TEST(r->response.payload == "raw");
}

BOOST_AUTO_TEST_CASE(oversize_request_is_discarded_and_answered_on_its_stream) {
    Harness h;
    UniqueFd raw = h.connect_raw();
    const std::string body(kMaxMessageLength + 1, 'a');
    bool sent = false; // Boost.Test assertions are not thread-safe: check after join
    std::thread writer([&] { sent = send_raw(raw.get(), 9, 1, body); });
    auto r = recv_raw(raw.get());
    writer.join();
    BOOST_TEST(sent);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->header.stream_id == 9u);
    BOOST_TEST(r->response.status.code == kResourceExhausted);
    BOOST_TEST(r->response.status.message.find("exceed maximum message size") != std::string::npos);
    // The body was skipped exactly: the next frame on the same connection is served.
    BOOST_REQUIRE(send_raw(raw.get(), 11, 1, echo_request("after oversize")));
    r = recv_raw(raw.get());
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->header.stream_id == 11u);
    BOOST_TEST(r->response.payload == "after oversize");
}

BOOST_AUTO_TEST_CASE(malformed_frames_close_only_their_connection) {
    Harness h;
    struct Case {
        const char* name;
        uint32_t stream_id;
        uint8_t type;
        std::string body;
    };
    const Case cases[] = {
        {"bad type", 1, 7, echo_request("x")},
        {"response type", 1, 2, echo_request("x")},
        {"data frame", 1, 3, echo_request("x")},
        {"even stream id", 2, 1, echo_request("x")},
        {"zero stream id", 0, 1, echo_request("x")},
        {"unparseable protobuf", 1, 1,
         std::string("\x0a\x7f"
                     "abc",
                     5)},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            UniqueFd raw = h.connect_raw();
            // The write may already fail: the server can close after the header.
            (void)send_raw(raw.get(), c.stream_id, c.type, c.body);
            BOOST_TEST(closed_by_server(raw.get()));
            // The harness client's connection is untouched.
            std::string resp;
            BOOST_TEST(h.client->call_raw("test.Echo", "Echo", c.name, resp).ok());
            BOOST_TEST(resp == c.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(truncated_frame_then_eof_closes_cleanly) {
    Harness h;
    {
        UniqueFd raw = h.connect_raw();
        const std::string req = echo_request("cut");
        BOOST_TEST(send_raw(raw.get(), 1, 1, req.substr(0, 3), static_cast<uint32_t>(req.size())));
    }
    std::string resp;
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "alive", resp).ok());
}

BOOST_AUTO_TEST_CASE(many_frames_in_one_write_are_all_served) {
    Harness h;
    UniqueFd raw = h.connect_raw();
    std::string burst;
    for (uint32_t id = 1; id < 200; id += 2) {
        uint8_t header[kFrameHeaderSize];
        const std::string body = echo_request(std::to_string(id));
        encode_header(FrameHeader{static_cast<uint32_t>(body.size()), id, 1, 0}, header);
        burst.append(reinterpret_cast<const char*>(header), sizeof header).append(body);
    }
    BOOST_REQUIRE(write_all(raw.get(), burst.data(), burst.size(), "raw").ok());
    std::set<uint32_t> seen;
    for (int i = 0; i < 100; ++i) {
        auto r = recv_raw(raw.get());
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->response.payload == std::to_string(r->header.stream_id));
        seen.insert(r->header.stream_id);
    }
    BOOST_TEST(seen.size() == 100u);
}
