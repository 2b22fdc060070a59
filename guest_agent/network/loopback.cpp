// Setting lo up with one RTM_NEWLINK.
#include "guest_agent/network/loopback.hpp"

#include <net/if.h>

#include "guest_agent/network/rtnl_requests.hpp"
#include "guest_agent/network/rtnl_socket.hpp"

namespace runvm::agent::net {

Result<void> bring_up_loopback() {
    const int lo = static_cast<int>(::if_nametoindex("lo"));
    if (lo == 0) {
        return Err(Error::from_errno("if_nametoindex lo"));
    }
    RUNVM_ASSIGN_OR_RETURN(RtnlSocket nl, RtnlSocket::open());
    return nl.request(link_request(nl.next_seq(), lo, "", 0, true), "set lo up");
}

} // namespace runvm::agent::net
