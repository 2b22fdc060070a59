// The client against a hand-driven server end of a socketpair: oversize and malformed
// responses, responses out of order, and hand-over of the reading role between callers.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "rpc/frame_io.hpp"
#include "rpc/test_support.hpp"

using namespace runvm;
using namespace runvm::rpc;
using namespace runvm::rpc::test;
using namespace std::chrono_literals;

namespace {

// Reads one request frame from the client; aborts the test on failure.
std::pair<uint32_t, DecodedRequest> read_request(FrameReader& frames) {
    auto ev = frames.next(std::chrono::steady_clock::now() + 2s);
    BOOST_REQUIRE(ev.ok());
    BOOST_REQUIRE(ev->kind == ReadEvent::Kind::frame);
    auto req = decode_request(ev->payload);
    BOOST_REQUIRE(req.ok());
    return {ev->header.stream_id, std::move(req).value()};
}

void respond(int fd, uint32_t stream_id, std::string_view payload) {
    BOOST_REQUIRE(write_frame(fd, stream_id, FrameType::response,
                              encode_response(Status{}, payload), "fake server")
                      .ok());
}

} // namespace

BOOST_AUTO_TEST_CASE(client_matches_out_of_order_responses_and_skips_oversize) {
    auto [server_end, client_end] = socket_pair();
    Client client(std::move(client_end));
    FrameReader frames(server_end.get(), Receiver::server, "fake server");

    Status first, second;
    std::string first_resp, second_resp;
    std::thread a([&] { first = client.call_raw("s", "A", "a", first_resp); });
    auto [id_a, req_a] = read_request(frames);
    std::thread b([&] { second = client.call_raw("s", "B", "b", second_resp); });
    auto [id_b, req_b] = read_request(frames);
    BOOST_TEST(id_a % 2 == 1u);
    BOOST_TEST(id_b == id_a + 2);
    BOOST_TEST(req_a.method == "A");

    // B first; then an oversize answer for A, which the client skips and reports.
    respond(server_end.get(), id_b, "for b");
    uint8_t header[kFrameHeaderSize];
    encode_header(FrameHeader{kMaxMessageLength + 1, id_a, 2, 0}, header);
    const std::string body(kMaxMessageLength + 1, 'z');
    BOOST_REQUIRE(write_all(server_end.get(), header, sizeof header, "fake server").ok());
    BOOST_REQUIRE(write_all(server_end.get(), body.data(), body.size(), "fake server").ok());
    a.join();
    b.join();
    BOOST_TEST(second.ok());
    BOOST_TEST(second_resp == "for b");
    BOOST_TEST(first.code == kResourceExhausted);

    // The stream is still in sync after the skipped body.
    std::thread c([&] { first = client.call_raw("s", "C", "c", first_resp); });
    auto [id_c, req_c] = read_request(frames);
    respond(server_end.get(), id_c, "for c");
    c.join();
    BOOST_TEST(first.ok());
    BOOST_TEST(first_resp == "for c");
}

BOOST_AUTO_TEST_CASE(reading_passes_on_when_the_reading_caller_times_out) {
    auto [server_end, client_end] = socket_pair();
    Client client(std::move(client_end));
    FrameReader frames(server_end.get(), Receiver::server, "fake server");

    Status timed_out, patient;
    std::string resp_a, resp_b;
    CallOptions short_timeout;
    short_timeout.timeout = 50ms;
    // A reads the socket first (no one else waits yet) and gives up after 50 ms; B, which
    // waits behind it, must take over reading to get its answer.
    std::thread a([&] { timed_out = client.call_raw("s", "A", "", resp_a, short_timeout); });
    auto [id_a, req_a] = read_request(frames);
    CallOptions long_timeout;
    long_timeout.timeout = 5s;
    std::thread b([&] { patient = client.call_raw("s", "B", "", resp_b, long_timeout); });
    auto [id_b, req_b] = read_request(frames);
    a.join();
    BOOST_TEST(timed_out.code == kDeadlineExceeded);
    respond(server_end.get(), id_a, "late for a"); // dropped
    respond(server_end.get(), id_b, "for b");
    b.join();
    BOOST_TEST(patient.ok());
    BOOST_TEST(resp_b == "for b");
}

BOOST_AUTO_TEST_CASE(malformed_response_breaks_the_connection) {
    auto [server_end, client_end] = socket_pair();
    Client client(std::move(client_end));
    FrameReader frames(server_end.get(), Receiver::server, "fake server");
    Status st;
    std::string resp;
    std::thread a([&] { st = client.call_raw("s", "A", "", resp); });
    auto [id_a, req_a] = read_request(frames);
    // A request-type frame where a response belongs.
    BOOST_REQUIRE(write_frame(server_end.get(), id_a, FrameType::request,
                              encode_response(Status{}, ""), "fake server")
                      .ok());
    a.join();
    BOOST_TEST(st.code == kUnavailable);
    BOOST_TEST(st.message.find("malformed frame") != std::string::npos);
    BOOST_TEST(!client.connected());
    BOOST_TEST(client.call_raw("s", "A", "", resp).code == kUnavailable);
}
