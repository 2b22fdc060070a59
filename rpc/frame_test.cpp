// Unit tests of the frame codec and the hand-written Request/Response encoding.
#define BOOST_TEST_MODULE rpc_frame_test
#include <boost/test/unit_test.hpp>

#include "rpc/frame.hpp"
#include "rpc/message.hpp"
#include "ttrpc.pb.h"

using namespace runvm::rpc;

namespace {

std::string frame_bytes(uint32_t length, uint32_t stream_id, uint8_t type, uint8_t flags,
                        std::string_view body) {
    uint8_t header[kFrameHeaderSize];
    encode_header(FrameHeader{length, stream_id, type, flags}, header);
    std::string out(reinterpret_cast<const char*>(header), sizeof header);
    out.append(body);
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(header_is_big_endian_and_round_trips) {
    uint8_t b[kFrameHeaderSize];
    encode_header(FrameHeader{0x01020304, 0x0a0b0c0d, 2, 0x5}, b);
    const uint8_t want[] = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 5};
    BOOST_TEST(std::equal(b, b + kFrameHeaderSize, want));
    const FrameHeader h = decode_header(b);
    BOOST_TEST(h.length == 0x01020304u);
    BOOST_TEST(h.stream_id == 0x0a0b0c0du);
    BOOST_TEST(h.type == 2);
    BOOST_TEST(h.flags == 5);
}

BOOST_AUTO_TEST_CASE(decoder_waits_for_whole_header_and_body) {
    const std::string f = frame_bytes(5, 1, 1, 0, "hello");
    for (size_t n = 0; n < f.size(); ++n) {
        const DecodeResult r = decode_frame(std::string_view(f).substr(0, n), Receiver::server);
        BOOST_TEST(static_cast<int>(r.outcome) == static_cast<int>(DecodeOutcome::need_more));
        BOOST_TEST(r.consumed == 0u);
    }
    const std::string with_more = f + "trailing";
    const DecodeResult r = decode_frame(with_more, Receiver::server);
    BOOST_REQUIRE(r.outcome == DecodeOutcome::frame);
    BOOST_TEST(r.payload == "hello");
    BOOST_TEST(r.consumed == f.size());
    BOOST_TEST(r.header.stream_id == 1u);
}

BOOST_AUTO_TEST_CASE(decoder_checks_type_per_receiver) {
    BOOST_TEST((decode_frame(frame_bytes(0, 3, 2, 0, ""), Receiver::client).outcome ==
                DecodeOutcome::frame));
    BOOST_TEST((decode_frame(frame_bytes(0, 3, 2, 0, ""), Receiver::server).outcome ==
                DecodeOutcome::malformed));
    BOOST_TEST((decode_frame(frame_bytes(0, 3, 1, 0, ""), Receiver::client).outcome ==
                DecodeOutcome::malformed));
    for (int type : {0, 3, 4, 0xff}) {
        const DecodeResult r =
            decode_frame(frame_bytes(0, 1, static_cast<uint8_t>(type), 0, ""), Receiver::server);
        BOOST_TEST((r.outcome == DecodeOutcome::malformed));
        BOOST_TEST(!r.reason.empty());
    }
    BOOST_TEST(decode_frame(frame_bytes(0, 1, 3, 0, ""), Receiver::server).reason.find("stream") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(decoder_rejects_even_and_zero_stream_ids) {
    for (uint32_t id : {0u, 2u, 0x80000000u}) {
        const DecodeResult r = decode_frame(frame_bytes(0, id, 1, 0, ""), Receiver::server);
        BOOST_TEST((r.outcome == DecodeOutcome::malformed));
        BOOST_TEST(r.reason.find("not odd") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(decoder_flags_oversize_before_the_body_arrives) {
    const DecodeResult at_limit =
        decode_frame(frame_bytes(kMaxMessageLength, 1, 1, 0, ""), Receiver::server);
    BOOST_TEST((at_limit.outcome == DecodeOutcome::need_more));
    const DecodeResult over =
        decode_frame(frame_bytes(kMaxMessageLength + 1, 7, 1, 0, ""), Receiver::server);
    BOOST_REQUIRE(over.outcome == DecodeOutcome::oversize);
    BOOST_TEST(over.consumed == kFrameHeaderSize);
    BOOST_TEST(over.header.stream_id == 7u);
    BOOST_TEST(over.header.length == kMaxMessageLength + 1);
}

BOOST_AUTO_TEST_CASE(request_encoding_parses_with_generated_code) {
    const Metadata md = {{"k1", "v1"}, {"k1", "v2"}, {"", "empty-key"}, {"empty-value", ""}};
    for (int64_t timeout : {int64_t{0}, int64_t{1}, int64_t{5'000'000'000}, int64_t{-3}}) {
        for (std::string_view payload : {std::string_view(""), std::string_view("\0x\xff", 3)}) {
            const EncodedBody body = encode_request("svc.v1.S", "Do", payload, timeout, md);
            ttrpc::Request msg;
            BOOST_REQUIRE(msg.ParseFromString(body.joined()));
            BOOST_TEST(msg.service() == "svc.v1.S");
            BOOST_TEST(msg.method() == "Do");
            BOOST_TEST(msg.payload() == payload);
            BOOST_TEST(msg.timeout_nano() == timeout);
            BOOST_REQUIRE(msg.metadata_size() == 4);
            for (int i = 0; i < 4; ++i) {
                BOOST_TEST(msg.metadata(i).key() == md[static_cast<size_t>(i)].first);
                BOOST_TEST(msg.metadata(i).value() == md[static_cast<size_t>(i)].second);
            }
            // Same bytes as protobuf's own serializer (field order 1..5, proto3 defaults off).
            BOOST_TEST(body.joined() == msg.SerializeAsString());

            auto decoded = decode_request(body.joined());
            BOOST_REQUIRE(decoded.ok());
            BOOST_TEST(decoded->payload == payload);
            BOOST_TEST(decoded->timeout_nano == timeout);
            BOOST_TEST((decoded->metadata == md));
        }
    }
}

BOOST_AUTO_TEST_CASE(response_encoding_parses_with_generated_code) {
    const std::string big(300, 'p'); // a two-byte length varint
    for (const Status& st : {Status{}, Status{kNotFound, "no such container"}, Status{-1, ""},
                             Status{kInternal, std::string(200, 'm')}}) {
        const EncodedBody body = encode_response(st, big);
        ttrpc::Response msg;
        BOOST_REQUIRE(msg.ParseFromString(body.joined()));
        BOOST_TEST(msg.has_status());
        BOOST_TEST(msg.status().code() == st.code);
        BOOST_TEST(msg.status().message() == st.message);
        BOOST_TEST(msg.payload() == (st.ok() ? big : std::string()));
        BOOST_TEST(body.joined() == msg.SerializeAsString());

        auto decoded = decode_response(body.joined());
        BOOST_REQUIRE(decoded.ok());
        BOOST_TEST(decoded->status.code == st.code);
        BOOST_TEST(decoded->status.message == st.message);
    }
}

BOOST_AUTO_TEST_CASE(garbage_bodies_do_not_parse) {
    BOOST_TEST(!decode_request("\x0a\x05"
                               "ab")
                    .ok()); // length past the end
    BOOST_TEST(!decode_request("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").ok());
    BOOST_TEST(!decode_response("\x0a\x02\x08").ok()); // truncated nested status
    BOOST_TEST(decode_request("").ok());               // all defaults is a valid message
}

BOOST_AUTO_TEST_CASE(status_names) {
    BOOST_TEST(code_name(kDeadlineExceeded) == "DeadlineExceeded");
    BOOST_TEST(code_name(kUnauthenticated) == "Unauthenticated");
    BOOST_TEST(code_name(99) == "Code(99)");
    BOOST_TEST((Status{kNotFound, "x"}.str() == "NotFound: x"));
    BOOST_TEST(Status{}.ok());
    BOOST_TEST(Status::kUnimplemented == 12);
}
