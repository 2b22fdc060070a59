// Frame I/O on a connected stream fd: a buffered reader that yields whole frames and a
// writer that sends header and body with one sendmsg.
#pragma once

#include <functional>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "rpc/frame.hpp"
#include "rpc/message.hpp"

namespace runvm::rpc {

struct ReadEvent {
    enum class Kind {
        frame,    // header + payload (valid until the next call of next())
        oversize, // a body over kMaxMessageLength follows; next() skips it
        eof,      // the peer closed the stream between frames
        timeout,  // the deadline passed before a whole frame was buffered (kept for later)
    };
    Kind kind = Kind::eof;
    FrameHeader header;
    std::string_view payload;
};

class FrameReader {
public:
    // `what` names the connection in errors ("ttrpc server connection fd 5").
    FrameReader(int fd, Receiver receiver, std::string what);

    using Deadline = std::optional<std::chrono::steady_clock::time_point>;

    // Blocks for the next frame, or until `deadline`. Errors: I/O failures, EOF inside a
    // frame, and protocol violations (the message starts with "malformed frame: ").
    Result<ReadEvent> next(Deadline deadline = std::nullopt);

    // Skips the rest of an oversized body now (next() would do it at its start); false
    // when the deadline passed first, the rest is then skipped later.
    Result<bool> skip_oversized(Deadline deadline);

private:
    enum class Fill { ok, eof, timeout };
    Result<Fill> fill(size_t want, Deadline deadline); // until `want` bytes are buffered
    Result<bool> wait_readable(std::chrono::steady_clock::time_point deadline);
    Result<Fill> discard(Deadline deadline); // skips discard_left_ bytes
    void compact();

    int fd_;
    Receiver receiver_;
    std::string what_;
    std::vector<char> buf_;
    size_t start_ = 0;        // first unconsumed byte
    size_t end_ = 0;          // one past the last buffered byte
    size_t discard_left_ = 0; // of an oversized body
};

// Writes one frame; the caller serializes writers on the fd. A send timeout set on the
// socket (SO_SNDTIMEO) makes a stalled peer an error instead of a hang.
Result<void> write_frame(int fd, uint32_t stream_id, FrameType type, const EncodedBody& body,
                         const char* what,
                         const std::function<void()>& while_blocked = {});

// Sets SO_SNDTIMEO; fds that are not sockets are left alone.
Result<void> set_send_timeout(int fd, std::chrono::milliseconds timeout);

} // namespace runvm::rpc
