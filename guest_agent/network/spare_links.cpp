// Spare links: the parking namespace (a thread's unshare, kept by an fd) and the moves in and
// out of it, each made from the namespace the link is in.
#include "guest_agent/network/spare_links.hpp"

#include <cerrno>
#include <mutex>

#include <fcntl.h>
#include <sched.h>

#include "base/owned_thread.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/network/interface_setup.hpp"
#include "guest_agent/network/rtnl_socket.hpp"

namespace runvm::agent::net {

namespace {

std::mutex parking_mu;
UniqueFd parking_netns; // guarded by parking_mu

// The calling thread's network namespace (the VM's, for the agent's threads).
Result<UniqueFd> own_netns() {
    UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /proc/thread-self/ns/net"));
    }
    return fd;
}

// `fn` on a thread of its own, whose namespace changes end with it: setns and unshare of
// the network namespace act on the calling thread only.
template <typename Fn>
Result<void> on_own_thread(const char* name, Fn&& fn) {
    Result<void> result = Err(Error::msg(std::string(name) + ": thread did not run"));
    RUNVM_ASSIGN_OR_RETURN(OwnedThread t,
                           OwnedThread::start(name, [&result, &fn] { result = fn(); }));
    t.stop_and_join();
    return result;
}

Result<int> parking_fd() {
    if (!parking_netns) {
        RUNVM_TRY(on_own_thread("park-netns", []() -> Result<void> {
            if (::unshare(CLONE_NEWNET) != 0) {
                return Err(Error::from_errno("unshare CLONE_NEWNET (parking namespace)"));
            }
            RUNVM_ASSIGN_OR_RETURN(parking_netns, own_netns());
            return Ok();
        }));
    }
    return parking_netns.get();
}

} // namespace

Result<void> park_links(const std::vector<std::array<uint8_t, 6>>& macs) {
    if (macs.empty()) {
        return Ok();
    }
    std::lock_guard lock(parking_mu);
    RUNVM_ASSIGN_OR_RETURN(const int parking, parking_fd());
    RUNVM_ASSIGN_OR_RETURN(RtnlSocket nl, RtnlSocket::open());
    for (const auto& mac : macs) {
        RUNVM_ASSIGN_OR_RETURN(const int index, find_link_by_mac(mac));
        RUNVM_TRY(nl.request(move_link_request(nl.next_seq(), index, parking),
                             "park link " + std::to_string(index)));
    }
    return Ok();
}

Result<void> unpark_link(const std::array<uint8_t, 6>& mac) {
    std::lock_guard lock(parking_mu);
    if (!parking_netns) {
        return Ok();
    }
    RUNVM_ASSIGN_OR_RETURN(const UniqueFd home, own_netns());
    const int parking = parking_netns.get();
    return on_own_thread("unpark-link", [&]() -> Result<void> {
        if (::setns(parking, CLONE_NEWNET) != 0) {
            return Err(Error::from_errno("setns parking namespace"));
        }
        auto index = find_link_by_mac(mac);
        if (!index) {
            return index.error().code() == ENODEV ? Ok() : Result<void>(Err(index.error()));
        }
        RUNVM_ASSIGN_OR_RETURN(RtnlSocket nl, RtnlSocket::open());
        return nl.request(move_link_request(nl.next_seq(), *index, home.get()),
                          "unpark link " + std::to_string(*index));
    });
}

} // namespace runvm::agent::net
