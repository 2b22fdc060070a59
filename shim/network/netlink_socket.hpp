// NetlinkSocket: one rtnetlink socket (libmnl) with request/ack and dump round trips,
// NetlinkMessage: a request being built, and AttrTable: a message's attributes by type.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include "base/result.hpp"

namespace runvm::network {

class NetlinkMessage {
public:
    NetlinkMessage(uint16_t type, uint16_t flags);
    nlmsghdr* header() { return nlh_; }
    // The family header after the netlink header (ifinfomsg, tcmsg, ...), zeroed.
    template <typename T>
    T* family_header() {
        return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
    }

private:
    std::vector<uint8_t> buf_;
    nlmsghdr* nlh_;
};

class NetlinkSocket {
public:
    // A NETLINK_ROUTE socket in the calling thread's network namespace; replies are
    // awaited at most 2 s each.
    static Result<NetlinkSocket> open();

    // Sends with NLM_F_ACK and waits for the kernel's answer; `what` names the request.
    Result<void> request(NetlinkMessage& msg, const std::string& what);
    // Sends an NLM_F_DUMP request and hands every answer to `each`.
    Result<void> dump(NetlinkMessage& msg, const std::function<void(const nlmsghdr*)>& each,
                      const std::string& what);

private:
    struct Closer {
        void operator()(mnl_socket* s) const { mnl_socket_close(s); }
    };
    NetlinkSocket(std::unique_ptr<mnl_socket, Closer> s, unsigned portid)
        : sock_(std::move(s)), portid_(portid), buf_(64 * 1024) {}
    Result<void> round_trip(NetlinkMessage& msg, const std::function<void(const nlmsghdr*)>* each,
                            const std::string& what);

    std::unique_ptr<mnl_socket, Closer> sock_;
    unsigned portid_;
    uint32_t seq_ = 1;
    std::vector<uint8_t> buf_;
};

// Attributes of one message (after its family header) or one nest, by type; types past
// the table and repeated types (the last wins) are the caller's to avoid.
using AttrTable = std::array<const nlattr*, 64>;
AttrTable parse_attrs(const nlmsghdr* nlh, size_t family_header_bytes);
AttrTable parse_nested(const nlattr* nest);
// Length-checked readers: nullopt when the attribute is absent or too short.
std::optional<uint32_t> attr_u32(const nlattr* a);
std::optional<std::string> attr_str(const nlattr* a);
// The payload when it is exactly `len` bytes (or at least `len` when !exact).
const uint8_t* attr_bytes(const nlattr* a, size_t len, bool exact = true);

} // namespace runvm::network
