// VhostUserTestFrontend: request sequences of a vhost-user frontend.
#include "broker/testing/vhost_user_test_frontend.hpp"

#include <cerrno>
#include <chrono>
#include <thread>

#include <poll.h>
#include <sys/socket.h>

#include "base/unix_socket.hpp"

namespace runvm::broker::testing {

using namespace ::runvm::vhost_user;

Result<VhostUserTestFrontend> VhostUserTestFrontend::connect(const std::string& path,
                                                             int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto fd = connect_unix(path, false);
        if (fd) {
            return VhostUserTestFrontend(std::move(*fd));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return Err(std::move(fd).error());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<void> VhostUserTestFrontend::send(uint32_t request, const void* payload, uint32_t size,
                                         const std::vector<int>& fds, uint32_t flags) {
    return write_request(sock_.get(), request, flags, payload, size, fds);
}

Result<Message> VhostUserTestFrontend::receive(int timeout_ms) {
    pollfd p{sock_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0) {
        return Err(Error::from_errno("poll vhost-user reply"));
    }
    if (rc == 0) {
        return Err(Error::with_errno(ETIMEDOUT, "vhost-user reply: timed out"));
    }
    RUNVM_ASSIGN_OR_RETURN(auto msg, read_message(sock_.get()));
    if (!msg) {
        return Err(Error::with_errno(ECONNRESET, "vhost-user reply: backend closed"));
    }
    if ((msg->header.flags & FLAG_REPLY) == 0) {
        return Err(Error::with_errno(EPROTO, "vhost-user reply: reply flag missing"));
    }
    return std::move(*msg);
}

Result<uint64_t> VhostUserTestFrontend::send_acked(uint32_t request, const void* payload,
                                                   uint32_t size, const std::vector<int>& fds) {
    RUNVM_TRY(send(request, payload, size, fds));
    RUNVM_ASSIGN_OR_RETURN(Message reply, receive());
    auto status = reply.as<uint64_t>();
    if (reply.header.request != request || !status) {
        return Err(Error::with_errno(EPROTO, std::string("ack for ") + request_name(request) +
                                                 ": malformed"));
    }
    return *status;
}

Result<uint64_t> VhostUserTestFrontend::get_u64(uint32_t request) {
    RUNVM_TRY(send(request, nullptr, 0, {}, VERSION));
    RUNVM_ASSIGN_OR_RETURN(Message reply, receive());
    auto value = reply.as<uint64_t>();
    if (reply.header.request != request || !value) {
        return Err(Error::with_errno(EPROTO, std::string("reply to ") + request_name(request) +
                                                 ": malformed"));
    }
    return *value;
}

namespace {

Result<void> accepted(Result<uint64_t> ack, const char* what) {
    if (!ack) {
        return Err(std::move(ack).error());
    }
    if (*ack != 0) {
        return Err(Error::with_errno(EINVAL, std::string(what) + ": refused by the backend"));
    }
    return Ok();
}

} // namespace

Result<void> VhostUserTestFrontend::negotiate(uint64_t wanted, TestGuestMemory& memory) {
    RUNVM_TRY(send(SET_OWNER, nullptr, 0, {}, VERSION));
    RUNVM_ASSIGN_OR_RETURN(uint64_t offered, get_u64(GET_FEATURES));
    if ((offered & F_PROTOCOL_FEATURES) == 0) {
        return Err(Error::with_errno(EPROTO, "backend lacks VHOST_USER_F_PROTOCOL_FEATURES"));
    }
    RUNVM_ASSIGN_OR_RETURN(uint64_t protocol, get_u64(GET_PROTOCOL_FEATURES));
    const uint64_t want_protocol =
        protocol & (PROTOCOL_F_REPLY_ACK | PROTOCOL_F_CONFIG | PROTOCOL_F_MQ);
    RUNVM_TRY(send(SET_PROTOCOL_FEATURES, &want_protocol, sizeof(want_protocol), {}, VERSION));
    features_ = (offered & wanted) | F_PROTOCOL_FEATURES;
    RUNVM_TRY(accepted(send_acked(SET_FEATURES, &features_, sizeof(features_)), "SET_FEATURES"));
    return set_mem_table(memory);
}

Result<void> VhostUserTestFrontend::set_mem_table(TestGuestMemory& memory) {
    struct {
        MemoryHeader head;
        MemoryRegionDesc region;
    } table{{1, 0}, {memory.base(), memory.size(), memory.user_addr(memory.base()), 0}};
    return accepted(send_acked(SET_MEM_TABLE, &table, sizeof(table), {memory.fd()}),
                    "SET_MEM_TABLE");
}

Result<void> VhostUserTestFrontend::start_ring(uint32_t index, VirtqueueDriver& ring,
                                               uint16_t base) {
    while (kicks_.size() <= index) {
        RUNVM_ASSIGN_OR_RETURN(EventFd k, EventFd::create());
        RUNVM_ASSIGN_OR_RETURN(EventFd c, EventFd::create());
        kicks_.push_back(std::move(k));
        calls_.push_back(std::move(c));
    }
    VringState num{index, ring.size()};
    RUNVM_TRY(accepted(send_acked(SET_VRING_NUM, &num, sizeof(num)), "SET_VRING_NUM"));
    VringState start{index, base};
    RUNVM_TRY(accepted(send_acked(SET_VRING_BASE, &start, sizeof(start)), "SET_VRING_BASE"));
    TestGuestMemory& mem = ring.memory();
    VringAddr addr{index,
                   0,
                   mem.user_addr(ring.desc_gpa()),
                   mem.user_addr(ring.used_gpa()),
                   mem.user_addr(ring.avail_gpa()),
                   0};
    RUNVM_TRY(accepted(send_acked(SET_VRING_ADDR, &addr, sizeof(addr)), "SET_VRING_ADDR"));
    const uint64_t slot = index;
    RUNVM_TRY(accepted(send_acked(SET_VRING_CALL, &slot, sizeof(slot), {calls_[index].get()}),
                       "SET_VRING_CALL"));
    RUNVM_TRY(accepted(send_acked(SET_VRING_KICK, &slot, sizeof(slot), {kicks_[index].get()}),
                       "SET_VRING_KICK"));
    VringState enable{index, 1};
    return accepted(send_acked(SET_VRING_ENABLE, &enable, sizeof(enable)), "SET_VRING_ENABLE");
}

Result<uint32_t> VhostUserTestFrontend::stop_ring(uint32_t index) {
    VringState state{index, 0};
    RUNVM_TRY(send(GET_VRING_BASE, &state, sizeof(state), {}, VERSION));
    RUNVM_ASSIGN_OR_RETURN(Message reply, receive());
    auto out = reply.as<VringState>();
    if (!out || out->index != index) {
        return Err(Error::with_errno(EPROTO, "GET_VRING_BASE reply: malformed"));
    }
    return out->num;
}

Result<std::vector<uint8_t>> VhostUserTestFrontend::get_config(uint32_t offset, uint32_t size) {
    std::vector<uint8_t> req(sizeof(ConfigHeader) + size, 0);
    const ConfigHeader head{offset, size, 0};
    std::memcpy(req.data(), &head, sizeof(head));
    RUNVM_TRY(send(GET_CONFIG, req.data(), static_cast<uint32_t>(req.size()), {}, VERSION));
    RUNVM_ASSIGN_OR_RETURN(Message reply, receive());
    if (reply.payload.size() != req.size()) {
        return Err(Error::with_errno(EPROTO, "GET_CONFIG reply: size " +
                                                 std::to_string(reply.payload.size())));
    }
    return std::vector<uint8_t>(reply.payload.begin() + sizeof(ConfigHeader), reply.payload.end());
}

Result<void> VhostUserTestFrontend::kick(uint32_t index) {
    if (index >= kicks_.size()) {
        return Err(
            Error::with_errno(EINVAL, "kick: ring " + std::to_string(index) + " not started"));
    }
    return kicks_[index].signal();
}

Result<bool> VhostUserTestFrontend::wait_call(uint32_t index, int timeout_ms) {
    if (index >= calls_.size()) {
        return Err(
            Error::with_errno(EINVAL, "call: ring " + std::to_string(index) + " not started"));
    }
    return calls_[index].wait(timeout_ms);
}

uint64_t VhostUserTestFrontend::take_calls(uint32_t index) {
    return index < calls_.size() ? calls_[index].drain() : 0;
}

bool VhostUserTestFrontend::peer_closed(int timeout_ms) {
    pollfd p{sock_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
        return false;
    }
    char c;
    const ssize_t n = ::recv(sock_.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    // Closed with our bytes unread, the kernel reports a reset instead of EOF.
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

} // namespace runvm::broker::testing
