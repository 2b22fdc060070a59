// NetlinkMessage: one rtnetlink request (nlmsghdr + family header + attributes) built in a
// byte buffer, and the check of the kernel's answer (NLMSG_ERROR ack).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::agent::net {

class NetlinkMessage {
public:
    // flags: NLM_F_REQUEST and NLM_F_ACK are always added.
    NetlinkMessage(uint16_t type, uint16_t flags, uint32_t seq);

    // The family header (ifinfomsg, ifaddrmsg, rtmsg) right after nlmsghdr.
    template <typename Header>
    void put_header(const Header& h) {
        append(&h, sizeof(h));
    }
    void put_attr(uint16_t type, const void* data, size_t len);
    void put_u32(uint16_t type, uint32_t value) { put_attr(type, &value, sizeof(value)); }
    void put_string(uint16_t type, const std::string& s) {
        put_attr(type, s.c_str(), s.size() + 1);
    }

    uint32_t seq() const { return seq_; }
    const std::vector<uint8_t>& bytes() const { return buf_; }

private:
    void append(const void* data, size_t len); // pads to 4 bytes, updates nlmsg_len
    std::vector<uint8_t> buf_;
    uint32_t seq_;
};

// Checks one datagram from the kernel for the ack of request `seq`: Ok for error 0, the
// kernel's errno (with `what`) otherwise. Any length or header that does not fit is EPROTO.
// Returns false in *found when the datagram holds no answer to `seq` (keep reading).
Result<void> check_ack(const uint8_t* data, size_t len, uint32_t seq, const std::string& what,
                       bool* found);

} // namespace runvm::agent::net
