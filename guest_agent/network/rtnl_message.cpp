// Building rtnetlink requests and reading the kernel's acks, bounds-checked.
#include "guest_agent/network/rtnl_message.hpp"

#include <cerrno>
#include <cstddef>

#include <linux/netlink.h>

namespace runvm::agent::net {

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags, uint32_t seq) : seq_(seq) {
    nlmsghdr h{};
    h.nlmsg_len = sizeof(h);
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
    h.nlmsg_seq = seq;
    buf_.resize(NLMSG_ALIGN(sizeof(h)));
    std::memcpy(buf_.data(), &h, sizeof(h));
}

void NetlinkMessage::append(const void* data, size_t len) {
    const size_t at = buf_.size();
    buf_.resize(at + NLMSG_ALIGN(len), 0);
    std::memcpy(buf_.data() + at, data, len);
    const auto total = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &total, sizeof(total));
}

void NetlinkMessage::put_attr(uint16_t type, const void* data, size_t len) {
    nlattr a{};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    a.nla_type = type;
    const size_t at = buf_.size();
    buf_.resize(at + NLA_HDRLEN + NLA_ALIGN(len), 0);
    std::memcpy(buf_.data() + at, &a, sizeof(a));
    std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
    const auto total = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &total, sizeof(total));
}

Result<void> check_ack(const uint8_t* data, size_t len, uint32_t seq, const std::string& what,
                       bool* found) {
    *found = false;
    size_t off = 0;
    while (len - off >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, data + off, sizeof(h));
        if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) {
            return Err(Error::with_errno(EPROTO, what + ": netlink message length " +
                                                     std::to_string(h.nlmsg_len)));
        }
        if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
            *found = true;
            if (h.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
                return Err(Error::with_errno(EPROTO, what + ": short netlink error message"));
            }
            nlmsgerr e;
            std::memcpy(&e, data + off + NLMSG_HDRLEN, sizeof(e));
            if (e.error == 0) {
                return Ok();
            }
            return Err(Error::with_errno(e.error < 0 ? -e.error : EPROTO, what));
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
        if (off > len) {
            break;
        }
    }
    return Ok();
}

} // namespace runvm::agent::net
