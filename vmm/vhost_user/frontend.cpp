// vhost-user frontend messages over a Unix socket with SCM_RIGHTS.
#include "vmm/vhost_user/frontend.hpp"

#include <chrono>
#include <cstring>
#include <thread>

#include <poll.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"

namespace runvm::vmm::vhost_user {

Result<Frontend> Frontend::connect(const std::string& path, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto fd = connect_unix(path, false);
        if (fd.ok()) {
            return Frontend(std::move(fd).value(), path);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return Err(std::move(fd).error().context("vhost-user connect"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string Frontend::what(uint32_t request) const {
    return "vhost-user request " + std::to_string(request) + " on " + path_;
}

Result<void> Frontend::send(uint32_t request, const void* payload, uint32_t size,
                            const std::vector<int>& fds, bool need_reply) {
    std::vector<uint8_t> msg(sizeof(Header) + size);
    Header h{request, VERSION | (need_reply ? FLAG_NEED_REPLY : 0u), size};
    std::memcpy(msg.data(), &h, sizeof h);
    if (size != 0) {
        std::memcpy(msg.data() + sizeof h, payload, size);
    }
    return send_with_fds(fd_.get(), msg.data(), msg.size(), fds, what(request).c_str());
}

Result<std::vector<uint8_t>> Frontend::receive(uint32_t request) {
    pollfd p{fd_.get(), POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, timeout_ms_);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return Err(Error::from_errno("poll " + what(request)));
    }
    if (rc == 0) {
        return Err(
            Error::msg(what(request) + ": no reply within " + std::to_string(timeout_ms_) + " ms"));
    }
    // The backend writes header and payload in one sendmsg; a stream may still split it.
    std::vector<uint8_t> buf(sizeof(Header) + MAX_PAYLOAD);
    Header h{};
    RUNVM_ASSIGN_OR_RETURN(const bool got, read_exact(fd_.get(), &h, sizeof h, path_.c_str()));
    if (!got) {
        return Err(Error::msg(what(request) + ": backend closed the connection"));
    }
    if (h.request != request || (h.flags & FLAG_REPLY) == 0 || h.size > MAX_PAYLOAD) {
        return Err(Error::msg(what(request) + ": bad reply (request " + std::to_string(h.request) +
                              ", flags " + hex(h.flags) + ", size " + std::to_string(h.size) +
                              ")"));
    }
    std::vector<uint8_t> payload(h.size);
    if (h.size != 0) {
        RUNVM_ASSIGN_OR_RETURN(const bool body,
                               read_exact(fd_.get(), payload.data(), h.size, path_.c_str()));
        if (!body) {
            return Err(Error::msg(what(request) + ": backend closed mid-reply"));
        }
    }
    return payload;
}

Result<uint64_t> Frontend::get_u64(uint32_t request) {
    RUNVM_TRY(send(request, nullptr, 0, {}, false));
    RUNVM_ASSIGN_OR_RETURN(const auto payload, receive(request));
    if (payload.size() != sizeof(uint64_t)) {
        return Err(Error::msg(what(request) + ": reply of " + std::to_string(payload.size()) +
                              " bytes, want 8"));
    }
    uint64_t v;
    std::memcpy(&v, payload.data(), sizeof v);
    return v;
}

Result<void> Frontend::set(uint32_t request, const void* payload, uint32_t size,
                           const std::vector<int>& fds) {
    RUNVM_TRY(send(request, payload, size, fds, reply_ack_));
    if (!reply_ack_) {
        return Ok();
    }
    RUNVM_ASSIGN_OR_RETURN(const auto ack, receive(request));
    uint64_t v = 1;
    if (ack.size() == sizeof v) {
        std::memcpy(&v, ack.data(), sizeof v);
    }
    if (v != 0) {
        return Err(Error::msg(what(request) + ": backend refused (ack " + std::to_string(v) + ")"));
    }
    return Ok();
}

Result<void> Frontend::set_owner() {
    return set(SET_OWNER, nullptr, 0);
}
Result<uint64_t> Frontend::get_features() {
    return get_u64(GET_FEATURES);
}
Result<void> Frontend::set_features(uint64_t f) {
    return set(SET_FEATURES, &f, sizeof f);
}
Result<uint64_t> Frontend::get_protocol_features() {
    return get_u64(GET_PROTOCOL_FEATURES);
}
Result<uint64_t> Frontend::get_queue_num() {
    return get_u64(GET_QUEUE_NUM);
}

Result<void> Frontend::set_protocol_features(uint64_t f) {
    RUNVM_TRY(set(SET_PROTOCOL_FEATURES, &f, sizeof f));
    reply_ack_ = (f & PROTOCOL_F_REPLY_ACK) != 0;
    return Ok();
}

Result<std::vector<uint8_t>> Frontend::get_config(uint32_t offset, uint32_t size) {
    if (size > MAX_CONFIG_SIZE) {
        return Err(Error::msg(what(GET_CONFIG) + ": size " + std::to_string(size) + " too big"));
    }
    std::vector<uint8_t> msg(sizeof(ConfigHeader) + size, 0);
    ConfigHeader h{offset, size, 0};
    std::memcpy(msg.data(), &h, sizeof h);
    RUNVM_TRY(send(GET_CONFIG, msg.data(), static_cast<uint32_t>(msg.size()), {}, false));
    RUNVM_ASSIGN_OR_RETURN(auto reply, receive(GET_CONFIG));
    if (reply.size() != msg.size()) {
        return Err(Error::msg(what(GET_CONFIG) + ": reply of " + std::to_string(reply.size()) +
                              " bytes, want " + std::to_string(msg.size())));
    }
    return std::vector<uint8_t>(reply.begin() + sizeof(ConfigHeader), reply.end());
}

Result<void> Frontend::set_config(uint32_t offset, const std::vector<uint8_t>& data) {
    if (data.size() > MAX_CONFIG_SIZE) {
        return Err(Error::msg(what(SET_CONFIG) + ": too big"));
    }
    std::vector<uint8_t> msg(sizeof(ConfigHeader) + data.size());
    ConfigHeader h{offset, static_cast<uint32_t>(data.size()), 0};
    std::memcpy(msg.data(), &h, sizeof h);
    std::memcpy(msg.data() + sizeof h, data.data(), data.size());
    return set(SET_CONFIG, msg.data(), static_cast<uint32_t>(msg.size()));
}

Result<void> Frontend::set_mem_table(const GuestMemory& mem) {
    MemoryTable t{};
    std::vector<int> fds;
    for (const auto& r : mem.regions()) {
        if (t.header.nregions == MAX_MEM_REGIONS) {
            return Err(Error::msg(what(SET_MEM_TABLE) + ": too many regions"));
        }
        t.regions[t.header.nregions++] = {r.gpa, r.size, reinterpret_cast<uint64_t>(r.host),
                                          r.file_offset};
        fds.push_back(mem.fd());
    }
    const auto size = static_cast<uint32_t>(8 + t.header.nregions * sizeof(MemoryRegionDesc));
    return set(SET_MEM_TABLE, &t, size, fds);
}

Result<void> Frontend::set_vring_num(uint32_t index, uint32_t num) {
    VringState s{index, num};
    return set(SET_VRING_NUM, &s, sizeof s);
}

Result<void> Frontend::set_vring_base(uint32_t index, uint32_t base) {
    VringState s{index, base};
    return set(SET_VRING_BASE, &s, sizeof s);
}

Result<uint32_t> Frontend::get_vring_base(uint32_t index) {
    VringState s{index, 0};
    RUNVM_TRY(send(GET_VRING_BASE, &s, sizeof s, {}, false));
    RUNVM_ASSIGN_OR_RETURN(const auto reply, receive(GET_VRING_BASE));
    if (reply.size() != sizeof s) {
        return Err(Error::msg(what(GET_VRING_BASE) + ": short reply"));
    }
    std::memcpy(&s, reply.data(), sizeof s);
    return s.num;
}

Result<void> Frontend::set_vring_addr(uint32_t index, uint64_t desc, uint64_t used,
                                      uint64_t avail) {
    VringAddr a{index, 0, desc, used, avail, 0};
    return set(SET_VRING_ADDR, &a, sizeof a);
}

Result<void> Frontend::set_vring_kick(uint32_t index, int fd) {
    uint64_t v = index;
    return set(SET_VRING_KICK, &v, sizeof v, {fd});
}

Result<void> Frontend::set_vring_call(uint32_t index, int fd) {
    uint64_t v = index;
    return set(SET_VRING_CALL, &v, sizeof v, {fd});
}

Result<void> Frontend::set_vring_enable(uint32_t index, bool enable) {
    VringState s{index, enable ? 1u : 0u};
    return set(SET_VRING_ENABLE, &s, sizeof s);
}

} // namespace runvm::vmm::vhost_user
