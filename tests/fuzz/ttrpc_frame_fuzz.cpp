// Fuzzes the ttRPC frame decoder, the buffered frame reader and Request/Response parsing
// with arbitrary bytes as a peer would send them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "rpc/frame.hpp"
#include "rpc/frame_io.hpp"
#include "rpc/message.hpp"

using namespace runvm;
using namespace runvm::rpc;

namespace {

// Decoding a body we encoded ourselves must give back what we encoded.
void check_request_round_trip(const DecodedRequest& req) {
    const EncodedBody body =
        encode_request(req.service, req.method, req.payload, req.timeout_nano, req.metadata);
    auto again = decode_request(body.joined());
    if (!again.ok() || again->service != req.service || again->method != req.method ||
        again->payload != req.payload || again->timeout_nano != req.timeout_nano ||
        again->metadata != req.metadata) {
        __builtin_trap();
    }
}

void check_response_round_trip(const DecodedResponse& resp) {
    const EncodedBody body = encode_response(resp.status, resp.payload);
    auto again = decode_response(body.joined());
    if (!again.ok() || again->status.code != resp.status.code ||
        again->status.message != resp.status.message ||
        (resp.status.ok() && again->payload != resp.payload)) {
        __builtin_trap();
    }
}

// Walks `data` frame by frame the way a connection would.
void decode_stream(std::string_view data, Receiver receiver) {
    while (!data.empty()) {
        const DecodeResult r = decode_frame(data, receiver);
        if (r.outcome == DecodeOutcome::need_more || r.outcome == DecodeOutcome::malformed) {
            return;
        }
        if (r.consumed == 0 || r.consumed > data.size()) {
            __builtin_trap();
        }
        if (r.outcome == DecodeOutcome::frame) {
            if (r.payload.size() != r.header.length) {
                __builtin_trap();
            }
            if (receiver == Receiver::server) {
                if (auto req = decode_request(r.payload); req.ok()) {
                    check_request_round_trip(*req);
                }
            } else if (auto resp = decode_response(r.payload); resp.ok()) {
                check_response_round_trip(*resp);
            }
        }
        data.remove_prefix(r.consumed);
        if (r.outcome == DecodeOutcome::oversize) {
            data.remove_prefix(std::min<size_t>(data.size(), r.header.length));
        }
    }
}

// The same bytes through FrameReader over a pipe (inputs stay under the pipe's 64 KiB).
void read_through_pipe(std::string_view data, Receiver receiver) {
    if (data.size() > 60000) {
        return;
    }
    int p[2];
    if (::pipe(p) != 0) {
        return;
    }
    UniqueFd rd(p[0]);
    {
        UniqueFd wr(p[1]);
        if (!write_all(wr.get(), data.data(), data.size(), "fuzz pipe").ok()) {
            return;
        }
    }
    FrameReader reader(rd.get(), receiver, "fuzz pipe");
    for (;;) {
        auto ev = reader.next();
        if (!ev.ok() || ev->kind == ReadEvent::Kind::eof) {
            return;
        }
        if (ev->kind == ReadEvent::Kind::frame && ev->payload.size() != ev->header.length) {
            __builtin_trap();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    decode_stream(bytes, Receiver::server);
    decode_stream(bytes, Receiver::client);
    // Bodies alone, as if a valid header had come before them.
    if (auto req = decode_request(bytes); req.ok()) {
        check_request_round_trip(*req);
    }
    if (auto resp = decode_response(bytes); resp.ok()) {
        check_response_round_trip(*resp);
    }
    read_through_pipe(bytes, size % 2 == 0 ? Receiver::server : Receiver::client);
    return 0;
}
