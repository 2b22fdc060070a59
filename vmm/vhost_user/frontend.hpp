// Frontend: the VMM's end of one vhost-user connection to a broker device. Every request
// that expects an answer waits for it with a timeout; replies are checked before use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/memory/guest_memory.hpp"
#include "vmm/vhost_user/protocol.hpp"

namespace runvm::vmm::vhost_user {

class Frontend {
public:
    // Connects, retrying until timeout_ms while the socket does not exist yet.
    static Result<Frontend> connect(const std::string& path, int timeout_ms);

    Result<void> set_owner();
    Result<uint64_t> get_features();
    Result<void> set_features(uint64_t features);
    Result<uint64_t> get_protocol_features();
    // Also turns on REPLY_ACK use when it is among `features`.
    Result<void> set_protocol_features(uint64_t features);
    Result<uint64_t> get_queue_num();
    Result<std::vector<uint8_t>> get_config(uint32_t offset, uint32_t size);
    Result<void> set_config(uint32_t offset, const std::vector<uint8_t>& data);
    Result<void> set_mem_table(const GuestMemory& mem);
    Result<void> set_vring_num(uint32_t index, uint32_t num);
    Result<void> set_vring_base(uint32_t index, uint32_t base);
    Result<uint32_t> get_vring_base(uint32_t index);
    // Addresses are the VMM's own virtual addresses of the rings (the spec's "user" ones).
    Result<void> set_vring_addr(uint32_t index, uint64_t desc, uint64_t used, uint64_t avail);
    Result<void> set_vring_kick(uint32_t index, int fd);
    Result<void> set_vring_call(uint32_t index, int fd);
    Result<void> set_vring_enable(uint32_t index, bool enable);

    const std::string& path() const { return path_; }

private:
    Frontend(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    Result<void> send(uint32_t request, const void* payload, uint32_t size,
                      const std::vector<int>& fds, bool need_reply);
    // Reads one reply to `request` (header + up to MAX_PAYLOAD bytes).
    Result<std::vector<uint8_t>> receive(uint32_t request);
    Result<uint64_t> get_u64(uint32_t request);
    // Sends a "set" request; with REPLY_ACK, waits for the backend's 0 ack.
    Result<void> set(uint32_t request, const void* payload, uint32_t size,
                     const std::vector<int>& fds = {});
    std::string what(uint32_t request) const;

    UniqueFd fd_;
    std::string path_;
    bool reply_ack_ = false;
    int timeout_ms_ = 5000;
};

} // namespace runvm::vmm::vhost_user
