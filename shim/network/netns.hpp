// Work in another network namespace on a short-lived thread (setns affects only that
// thread), so the calling process's own namespace is never touched.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <fcntl.h>
#include <sched.h>

#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::network {

// Opens a namespace file (/var/run/netns/x, /proc/<pid>/ns/net) for run_in_netns.
Result<UniqueFd> open_netns(const std::string& path);

// A new, empty network namespace, held by the returned fd alone (tests, probes).
Result<UniqueFd> create_netns();

// Refuses (EPERM) a namespace that is the host's own: pid 1's, or this process's (the one
// runvm runs in). Plumbing it would mirror every frame of the host's interfaces to a VM.
Result<void> refuse_host_netns(int netns_fd);

// Netlink requests in a namespace take milliseconds; this long means a wedged kernel path.
inline constexpr std::chrono::milliseconds kNetnsWorkTimeout{30'000};

// Runs `f` (returning a Result) on a thread that joined `netns_fd` first. Sockets and taps
// that `f` creates belong to that namespace; fds it returns stay usable anywhere.
template <typename F>
auto run_in_netns(int netns_fd, F&& f) -> decltype(f()) {
    std::optional<decltype(f())> out;
    OwnedThread worker("netns worker",
                       [&] {
                           if (::setns(netns_fd, CLONE_NEWNET) != 0) {
                               out.emplace(Err(Error::from_errno("setns CLONE_NEWNET fd " +
                                                                 std::to_string(netns_fd))));
                               return;
                           }
                           out.emplace(f());
                       },
                       {.wake = {}, .stop_timeout = kNetnsWorkTimeout});
    worker.stop_and_join();
    return std::move(*out);
}

} // namespace runvm::network
