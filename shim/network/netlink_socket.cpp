// NetlinkSocket round trips over libmnl and the attribute table readers.
#include "shim/network/netlink_socket.hpp"

#include <cerrno>
#include <ctime>

#include <sys/socket.h>

namespace runvm::network {

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) : buf_(8192, 0) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = flags;
}

Result<NetlinkSocket> NetlinkSocket::open() {
    std::unique_ptr<mnl_socket, Closer> s(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
    if (!s) {
        return Err(Error::from_errno("socket NETLINK_ROUTE"));
    }
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        return Err(Error::from_errno("bind NETLINK_ROUTE"));
    }
    timeval timeout{2, 0};
    if (::setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                     sizeof(timeout)) < 0) {
        return Err(Error::from_errno("setsockopt SO_RCVTIMEO netlink"));
    }
    const unsigned portid = mnl_socket_get_portid(s.get());
    return NetlinkSocket(std::move(s), portid);
}

Result<void> NetlinkSocket::request(NetlinkMessage& msg, const std::string& what) {
    msg.header()->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    return round_trip(msg, nullptr, what);
}

Result<void> NetlinkSocket::dump(NetlinkMessage& msg,
                                 const std::function<void(const nlmsghdr*)>& each,
                                 const std::string& what) {
    msg.header()->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
    return round_trip(msg, &each, what);
}

namespace {

int call_each(const nlmsghdr* nlh, void* data) {
    (*static_cast<const std::function<void(const nlmsghdr*)>*>(data))(nlh);
    return MNL_CB_OK;
}

} // namespace

Result<void> NetlinkSocket::round_trip(NetlinkMessage& msg,
                                       const std::function<void(const nlmsghdr*)>* each,
                                       const std::string& what) {
    nlmsghdr* nlh = msg.header();
    const uint32_t seq = seq_++;
    nlh->nlmsg_seq = seq;
    if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) {
        return Err(Error::from_errno("netlink send " + what));
    }
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf_.data(), buf_.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("netlink receive " + what));
        }
        const int r = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq, portid_,
                                 each != nullptr ? call_each : nullptr,
                                 const_cast<std::function<void(const nlmsghdr*)>*>(each));
        if (r < 0) {
            return Err(Error::from_errno(what));
        }
        if (r == MNL_CB_STOP) {
            return Ok();
        }
    }
}

namespace {

int collect(const nlattr* a, void* data) {
    auto* table = static_cast<AttrTable*>(data);
    const uint16_t type = mnl_attr_get_type(a);
    if (type < table->size()) {
        (*table)[type] = a;
    }
    return MNL_CB_OK;
}

} // namespace

AttrTable parse_attrs(const nlmsghdr* nlh, size_t family_header_bytes) {
    AttrTable t{};
    mnl_attr_parse(nlh, static_cast<unsigned>(family_header_bytes), collect, &t);
    return t;
}

AttrTable parse_nested(const nlattr* nest) {
    AttrTable t{};
    if (nest != nullptr) {
        mnl_attr_parse_nested(nest, collect, &t);
    }
    return t;
}

std::optional<uint32_t> attr_u32(const nlattr* a) {
    if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(uint32_t)) {
        return std::nullopt;
    }
    return mnl_attr_get_u32(a);
}

std::optional<std::string> attr_str(const nlattr* a) {
    if (a == nullptr) {
        return std::nullopt;
    }
    const auto* p = static_cast<const char*>(mnl_attr_get_payload(a));
    const size_t len = mnl_attr_get_payload_len(a);
    size_t n = 0;
    while (n < len && p[n] != '\0') {
        ++n;
    }
    return std::string(p, n);
}

const uint8_t* attr_bytes(const nlattr* a, size_t len, bool exact) {
    if (a == nullptr) {
        return nullptr;
    }
    const size_t have = mnl_attr_get_payload_len(a);
    if (exact ? have != len : have < len) {
        return nullptr;
    }
    return static_cast<const uint8_t*>(mnl_attr_get_payload(a));
}

} // namespace runvm::network
