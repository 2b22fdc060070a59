// Message framing on the vhost-user socket: header + payload in order, fds with the header.
#include "vhost_user/message.hpp"

#include <cerrno>

#include <sys/socket.h>

#include "base/unix_socket.hpp"

namespace runvm::vhost_user {

namespace {

// Reads exactly len bytes; the socket has a receive timeout so a stalled peer cannot hang
// the device thread.
Result<void> read_rest(int fd, uint8_t* buf, size_t len, const char* what) {
    while (len > 0) {
        const ssize_t n = ::recv(fd, buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno(std::string("recv vhost-user ") + what));
        }
        if (n == 0) {
            return Err(Error::with_errno(ECONNRESET, std::string("vhost-user ") + what +
                                                         ": peer closed mid-message"));
        }
        buf += n;
        len -= static_cast<size_t>(n);
    }
    return Ok();
}

} // namespace

const char* request_name(uint32_t request) {
    switch (request) {
    case GET_FEATURES:
        return "GET_FEATURES";
    case SET_FEATURES:
        return "SET_FEATURES";
    case SET_OWNER:
        return "SET_OWNER";
    case RESET_OWNER:
        return "RESET_OWNER";
    case SET_MEM_TABLE:
        return "SET_MEM_TABLE";
    case SET_LOG_BASE:
        return "SET_LOG_BASE";
    case SET_LOG_FD:
        return "SET_LOG_FD";
    case SET_VRING_NUM:
        return "SET_VRING_NUM";
    case SET_VRING_ADDR:
        return "SET_VRING_ADDR";
    case SET_VRING_BASE:
        return "SET_VRING_BASE";
    case GET_VRING_BASE:
        return "GET_VRING_BASE";
    case SET_VRING_KICK:
        return "SET_VRING_KICK";
    case SET_VRING_CALL:
        return "SET_VRING_CALL";
    case SET_VRING_ERR:
        return "SET_VRING_ERR";
    case GET_PROTOCOL_FEATURES:
        return "GET_PROTOCOL_FEATURES";
    case SET_PROTOCOL_FEATURES:
        return "SET_PROTOCOL_FEATURES";
    case GET_QUEUE_NUM:
        return "GET_QUEUE_NUM";
    case SET_VRING_ENABLE:
        return "SET_VRING_ENABLE";
    case GET_CONFIG:
        return "GET_CONFIG";
    case SET_CONFIG:
        return "SET_CONFIG";
    default:
        return "unknown request";
    }
}

Result<std::optional<Message>> read_message(int fd) {
    Message msg;
    auto* head = reinterpret_cast<uint8_t*>(&msg.header);
    RUNVM_ASSIGN_OR_RETURN(ReceivedFds first,
                           recv_with_fds(fd, head, sizeof(Header), MAX_FDS, "vhost-user header"));
    msg.fds = std::move(first.fds);
    if (first.bytes == 0) {
        return std::optional<Message>();
    }
    if (first.fds_truncated) {
        return Err(Error::with_errno(EMSGSIZE, "vhost-user header: more than " +
                                                   std::to_string(MAX_FDS) + " fds"));
    }
    RUNVM_TRY(read_rest(fd, head + first.bytes, sizeof(Header) - first.bytes, "header"));
    if ((msg.header.flags & FLAG_VERSION_MASK) != VERSION) {
        return Err(Error::with_errno(EPROTO,
                                     std::string("vhost-user ") + request_name(msg.header.request) +
                                         ": version flags " + std::to_string(msg.header.flags)));
    }
    if (msg.header.size > MAX_PAYLOAD) {
        return Err(Error::with_errno(EMSGSIZE,
                                     std::string("vhost-user ") + request_name(msg.header.request) +
                                         ": payload size " + std::to_string(msg.header.size)));
    }
    msg.payload.resize(msg.header.size);
    RUNVM_TRY(read_rest(fd, msg.payload.data(), msg.payload.size(), "payload"));
    return std::optional<Message>(std::move(msg));
}

Result<void> write_reply(int fd, uint32_t request, const void* payload, uint32_t size) {
    return write_request(fd, request, VERSION | FLAG_REPLY, payload, size, {});
}

Result<void> write_request(int fd, uint32_t request, uint32_t flags, const void* payload,
                           uint32_t size, const std::vector<int>& fds) {
    std::vector<uint8_t> buf(sizeof(Header) + size);
    const Header h{request, flags, size};
    std::memcpy(buf.data(), &h, sizeof(h));
    if (size > 0) {
        std::memcpy(buf.data() + sizeof(h), payload, size);
    }
    return send_with_fds(fd, buf.data(), buf.size(), fds, request_name(request));
}

} // namespace runvm::vhost_user
