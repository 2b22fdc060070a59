// Buffered frame reading and single-syscall frame writing for ttRPC connections.
#include "rpc/frame_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

namespace runvm::rpc {

namespace {

// Small frames arrive many per read; the buffer grows to one whole frame when needed.
constexpr size_t kReadChunk = 64 * 1024;
// After a large frame the buffer shrinks back so an idle connection holds little memory.
constexpr size_t kKeepCapacity = 256 * 1024;

} // namespace

FrameReader::FrameReader(int fd, Receiver receiver, std::string what)
    : fd_(fd), receiver_(receiver), what_(std::move(what)), buf_(kReadChunk) {}

void FrameReader::compact() {
    if (start_ == end_) {
        start_ = end_ = 0;
        if (buf_.size() > kKeepCapacity) {
            buf_.resize(kReadChunk);
            buf_.shrink_to_fit();
        }
        return;
    }
    if (start_ > 0) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
    }
}

Result<FrameReader::Fill> FrameReader::fill(size_t want, Deadline deadline) {
    if (end_ - start_ >= want) {
        return Fill::ok;
    }
    if (buf_.size() - start_ < want) {
        compact();
        if (buf_.size() < want) {
            buf_.resize(std::max(want, kReadChunk));
        }
    }
    while (end_ - start_ < want) {
        if (deadline) {
            RUNVM_ASSIGN_OR_RETURN(const bool readable, wait_readable(*deadline));
            if (!readable) {
                return Fill::timeout;
            }
        }
        const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("read " + what_));
        }
        if (n == 0) {
            return Fill::eof;
        }
        end_ += static_cast<size_t>(n);
    }
    return Fill::ok;
}

Result<bool> FrameReader::wait_readable(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        // A deadline already past still gets one zero-timeout look, so a caller can drain
        // what has arrived without waiting (see write_frame's while_blocked).
        const auto left = std::max(deadline - std::chrono::steady_clock::now(),
                                   std::chrono::steady_clock::duration::zero());
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const timespec ts{static_cast<time_t>(ns / 1'000'000'000),
                          static_cast<long>(ns % 1'000'000'000)};
        pollfd pfd{fd_, POLLIN, 0};
        const int rc = ::ppoll(&pfd, 1, &ts, nullptr);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("ppoll " + what_));
        }
        if (rc > 0) {
            return true; // readable, hung up or failed: read() tells which
        }
        return false;
    }
}

Result<FrameReader::Fill> FrameReader::discard(Deadline deadline) {
    const size_t buffered = std::min(discard_left_, end_ - start_);
    start_ += buffered;
    discard_left_ -= buffered;
    compact();
    while (discard_left_ > 0) {
        if (deadline) {
            RUNVM_ASSIGN_OR_RETURN(const bool readable, wait_readable(*deadline));
            if (!readable) {
                return Fill::timeout;
            }
        }
        // The buffer is empty here (all of it was part of the discarded body).
        const ssize_t got = ::read(fd_, buf_.data(), std::min(discard_left_, buf_.size()));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("read " + what_ + " (discarding an oversized message)"));
        }
        if (got == 0) {
            return Fill::eof;
        }
        discard_left_ -= static_cast<size_t>(got);
    }
    return Fill::ok;
}

Result<bool> FrameReader::skip_oversized(Deadline deadline) {
    RUNVM_ASSIGN_OR_RETURN(const Fill discarded, discard(deadline));
    if (discarded == Fill::eof) {
        return Err(Error::msg("read " + what_ + ": end of stream inside an oversized message"));
    }
    return discarded == Fill::ok;
}

Result<ReadEvent> FrameReader::next(Deadline deadline) {
    if (discard_left_ > 0) {
        RUNVM_ASSIGN_OR_RETURN(const Fill discarded, discard(deadline));
        if (discarded == Fill::timeout) {
            return ReadEvent{ReadEvent::Kind::timeout, {}, {}};
        }
        if (discarded == Fill::eof) {
            return Err(Error::msg("read " + what_ + ": end of stream inside an oversized message"));
        }
    }
    // The previous frame's payload is no longer referenced: reclaim space lazily.
    if (start_ == end_) {
        compact();
    }
    RUNVM_ASSIGN_OR_RETURN(const Fill header_fill, fill(kFrameHeaderSize, deadline));
    if (header_fill == Fill::timeout) {
        return ReadEvent{ReadEvent::Kind::timeout, {}, {}};
    }
    if (header_fill == Fill::eof) {
        if (end_ != start_) {
            return Err(Error::msg("read " + what_ + ": end of stream inside a frame header"));
        }
        return ReadEvent{};
    }
    DecodeResult d = decode_frame(std::string_view(buf_.data() + start_, end_ - start_), receiver_);
    if (d.outcome == DecodeOutcome::malformed) {
        return Err(Error::msg("malformed frame: " + d.reason));
    }
    if (d.outcome == DecodeOutcome::oversize) {
        // Reported now; the body is skipped at the start of the next call, so a deadline
        // can interrupt the skipping without losing track of the stream.
        start_ += d.consumed;
        discard_left_ = d.header.length;
        ReadEvent ev;
        ev.kind = ReadEvent::Kind::oversize;
        ev.header = d.header;
        return ev;
    }
    if (d.outcome == DecodeOutcome::need_more) {
        RUNVM_ASSIGN_OR_RETURN(const Fill body_fill,
                               fill(kFrameHeaderSize + d.header.length, deadline));
        if (body_fill == Fill::timeout) {
            return ReadEvent{ReadEvent::Kind::timeout, {}, {}};
        }
        if (body_fill == Fill::eof) {
            return Err(Error::msg("read " + what_ + ": end of stream inside a frame body"));
        }
        d = decode_frame(std::string_view(buf_.data() + start_, end_ - start_), receiver_);
    }
    // The header was already valid, so with the whole body buffered this is a frame.
    ReadEvent ev;
    ev.kind = ReadEvent::Kind::frame;
    ev.header = d.header;
    ev.payload = d.payload;
    start_ += d.consumed;
    return ev;
}

Result<void> write_frame(int fd, uint32_t stream_id, FrameType type, const EncodedBody& body,
                         const char* what, const std::function<void()>& while_blocked) {
    const size_t length = body.size();
    if (length > kMaxMessageLength) {
        return Err(Error::msg(std::string("write ") + what + ": frame of " +
                              std::to_string(length) + " bytes exceeds the message limit"));
    }
    uint8_t header[kFrameHeaderSize];
    encode_header(
        FrameHeader{static_cast<uint32_t>(length), stream_id, static_cast<uint8_t>(type), 0},
        header);
    iovec iov[4] = {{header, sizeof header},
                    {const_cast<char*>(body.head.data()), body.head.size()},
                    {const_cast<char*>(body.payload.data()), body.payload.size()},
                    {const_cast<char*>(body.tail.data()), body.tail.size()}};
    size_t first = 0;
    size_t remaining = kFrameHeaderSize + length;
    bool is_socket = true;
    // Send timeout when waiting with while_blocked: polls of kBlockedPollMs without progress.
    constexpr long kBlockedPollMs = 100;
    constexpr int kBlockedPollLimit = 100;
    int blocked_polls = 0;
    while (remaining > 0) {
        // Skip empty and finished pieces.
        while (iov[first].iov_len == 0) {
            ++first;
        }
        ssize_t n;
        if (is_socket) {
            msghdr msg{};
            msg.msg_iov = iov + first;
            msg.msg_iovlen = 4 - first;
            // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
            // With while_blocked, a full socket buffer is not waited out blindly: the caller
            // gets to read what the peer sent meanwhile (a peer blocked writing responses
            // to us may be what keeps it from reading this request).
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | (while_blocked ? MSG_DONTWAIT : 0));
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && while_blocked) {
                pollfd p{fd, POLLOUT | POLLIN, 0};
                const int ready = ::poll(&p, 1, static_cast<int>(kBlockedPollMs));
                if (ready < 0 && errno != EINTR) {
                    return Err(Error::from_errno(std::string("poll ") + what));
                }
                if (ready == 0 && ++blocked_polls > kBlockedPollLimit) {
                    return Err(Error::with_errno(EAGAIN, std::string("sendmsg ") + what +
                                                             ": peer stopped reading (send timeout)"));
                }
                if (ready > 0 && (p.revents & POLLIN) != 0) {
                    blocked_polls = 0;
                    while_blocked();
                }
                continue;
            }
            if (n < 0 && errno == ENOTSOCK) {
                is_socket = false;
                continue;
            }
        } else {
            n = ::writev(fd, iov + first, static_cast<int>(4 - first));
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return Err(Error::from_errno(std::string("sendmsg ") + what +
                                             ": peer stopped reading (send timeout)"));
            }
            return Err(Error::from_errno(std::string("sendmsg ") + what));
        }
        size_t done = static_cast<size_t>(n);
        remaining -= done;
        while (done > 0) {
            const size_t step = std::min(done, iov[first].iov_len);
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + step;
            iov[first].iov_len -= step;
            done -= step;
            if (iov[first].iov_len == 0 && first < 3) {
                ++first;
            }
        }
    }
    return Ok();
}

Result<void> set_send_timeout(int fd, std::chrono::milliseconds timeout) {
    const auto ms = timeout.count();
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 && errno != ENOTSOCK) {
        return Err(Error::from_errno("setsockopt SO_SNDTIMEO fd " + std::to_string(fd)));
    }
    return Ok();
}

} // namespace runvm::rpc
