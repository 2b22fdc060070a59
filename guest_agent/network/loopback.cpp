// Setting lo up with one RTM_NEWLINK.
#include "guest_agent/network/loopback.hpp"

#include "guest_agent/network/rtnl_requests.hpp"
#include "guest_agent/network/rtnl_socket.hpp"

namespace runvm::agent::net {

namespace {
// Every network namespace's lo has index 1 (the kernel's LOOPBACK_IFINDEX, fixed since
// Linux 3.13), so no lookup by name: if_nametoindex costs a socket and an ioctl, cold kernel
// code at boot under TCG.
constexpr int kLoopbackIfindex = 1;
} // namespace

Result<void> bring_up_loopback() {
    RUNVM_ASSIGN_OR_RETURN(RtnlSocket nl, RtnlSocket::open());
    return nl.request(link_request(nl.next_seq(), kLoopbackIfindex, "", 0, true), "set lo up");
}

} // namespace runvm::agent::net
