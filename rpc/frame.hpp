// ttRPC framing: the 10-byte message header and a pure decoder over a byte buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runvm::rpc {

inline constexpr size_t kFrameHeaderSize = 10;
// containerd/ttrpc messageLengthMax: bodies above this are discarded and answered with
// ResourceExhausted.
inline constexpr uint32_t kMaxMessageLength = 4u << 20;

enum class FrameType : uint8_t { request = 1, response = 2, data = 3 };

// Header flags (ttrpc 1.2 streaming); 1.1 peers always send 0.
inline constexpr uint8_t kFlagRemoteClosed = 0x1;
inline constexpr uint8_t kFlagRemoteOpen = 0x2;
inline constexpr uint8_t kFlagNoData = 0x4;

struct FrameHeader {
    uint32_t length = 0; // body length, header excluded
    uint32_t stream_id = 0;
    uint8_t type = 0; // a FrameType value when valid
    uint8_t flags = 0;
};

// Big-endian length and stream id, then type and flags.
void encode_header(const FrameHeader& header, uint8_t out[kFrameHeaderSize]);
FrameHeader decode_header(const uint8_t in[kFrameHeaderSize]);

// Which side reads the frames: a server accepts requests, a client accepts responses.
enum class Receiver { server, client };

enum class DecodeOutcome {
    need_more, // the buffer holds less than one whole header (or body)
    frame,     // a valid frame: header and payload are set, `consumed` bytes used
    oversize,  // a valid header whose body exceeds kMaxMessageLength: `consumed` covers
               // the header only; the caller discards header.length more bytes
    malformed, // the peer broke the protocol: `reason` says how; close the connection
};

struct DecodeResult {
    DecodeOutcome outcome = DecodeOutcome::need_more;
    FrameHeader header;
    std::string_view payload; // points into the decoded buffer
    size_t consumed = 0;
    std::string reason;
};

// Decodes the first frame in `buffer` for `receiver`. Pure: no I/O, no allocation except
// for `reason`, safe on any bytes.
// Checks: type is the one the receiver accepts (request / response), stream id is odd and
// nonzero (ttRPC client-initiated streams); flags are not checked (reserved in ttrpc 1.1).
DecodeResult decode_frame(std::string_view buffer, Receiver receiver);

} // namespace runvm::rpc
