// RtnlSocket: a NETLINK_ROUTE socket that sends one request at a time and waits (bounded)
// for its ack.
#pragma once

#include <chrono>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/network/rtnl_message.hpp"

namespace runvm::agent::net {

class RtnlSocket {
public:
    static Result<RtnlSocket> open(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    uint32_t next_seq() { return ++seq_; }
    // Sends `m` and waits for its NLMSG_ERROR ack; `what` names the request in errors.
    Result<void> request(const NetlinkMessage& m, const std::string& what);

private:
    UniqueFd fd_;
    uint32_t seq_ = 0;
    std::chrono::milliseconds timeout_{5000};
};

} // namespace runvm::agent::net
