// ttRPC frame header codec and the validating frame decoder.
#include "rpc/frame.hpp"

namespace runvm::rpc {

namespace {

void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

uint32_t get_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

DecodeResult malformed(const FrameHeader& header, std::string reason) {
    DecodeResult r;
    r.outcome = DecodeOutcome::malformed;
    r.header = header;
    r.reason = std::move(reason);
    return r;
}

} // namespace

void encode_header(const FrameHeader& header, uint8_t out[kFrameHeaderSize]) {
    put_be32(out, header.length);
    put_be32(out + 4, header.stream_id);
    out[8] = header.type;
    out[9] = header.flags;
}

FrameHeader decode_header(const uint8_t in[kFrameHeaderSize]) {
    FrameHeader h;
    h.length = get_be32(in);
    h.stream_id = get_be32(in + 4);
    h.type = in[8];
    h.flags = in[9];
    return h;
}

DecodeResult decode_frame(std::string_view buffer, Receiver receiver) {
    DecodeResult r;
    if (buffer.size() < kFrameHeaderSize) {
        return r;
    }
    r.header = decode_header(reinterpret_cast<const uint8_t*>(buffer.data()));
    const FrameHeader& h = r.header;

    const auto expected = receiver == Receiver::server ? FrameType::request : FrameType::response;
    if (h.type != static_cast<uint8_t>(expected)) {
        if (h.type == static_cast<uint8_t>(FrameType::data)) {
            return malformed(h, "data frame on stream " + std::to_string(h.stream_id) +
                                    ": streaming is not supported");
        }
        return malformed(h, "frame type " + std::to_string(h.type) + " on stream " +
                                std::to_string(h.stream_id) + " (want " +
                                std::to_string(static_cast<int>(expected)) + ")");
    }
    // Client-initiated streams are odd; 0 is never a stream.
    if (h.stream_id % 2 != 1) {
        return malformed(h, "stream id " + std::to_string(h.stream_id) +
                                " is not odd (client-initiated streams are odd)");
    }
    if (h.length > kMaxMessageLength) {
        r.outcome = DecodeOutcome::oversize;
        r.consumed = kFrameHeaderSize;
        return r;
    }
    if (buffer.size() - kFrameHeaderSize < h.length) {
        return r; // need_more, header already decoded for the caller's buffer sizing
    }
    r.outcome = DecodeOutcome::frame;
    r.payload = buffer.substr(kFrameHeaderSize, h.length);
    r.consumed = kFrameHeaderSize + h.length;
    return r;
}

} // namespace runvm::rpc
