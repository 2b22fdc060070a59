// Message: one vhost-user request or reply with its payload and fds; reading and writing it
// on the connection socket.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vhost_user/protocol.hpp"

namespace runvm::vhost_user {

struct Message {
    Header header{};
    std::vector<uint8_t> payload;
    std::vector<UniqueFd> fds;

    bool need_reply() const { return (header.flags & FLAG_NEED_REPLY) != 0; }

    // The payload as T when its size is exactly sizeof(T).
    template <typename T>
    std::optional<T> as() const {
        if (payload.size() != sizeof(T)) {
            return std::nullopt;
        }
        T value;
        std::memcpy(&value, payload.data(), sizeof(T));
        return value;
    }
};

// Reads one message. nullopt: the peer closed cleanly between messages. Errors: a
// malformed header, a payload over MAX_PAYLOAD, a truncated message, or more than
// MAX_FDS fds; after any error the stream cannot be trusted and must be closed.
Result<std::optional<Message>> read_message(int fd);

// Writes a reply to `request` carrying `payload`.
Result<void> write_reply(int fd, uint32_t request, const void* payload, uint32_t size);

// Writes a request (the frontend side, used by the test frontend).
Result<void> write_request(int fd, uint32_t request, uint32_t flags, const void* payload,
                           uint32_t size, const std::vector<int>& fds);

} // namespace runvm::vhost_user
