// Work in another network namespace on a short-lived thread (setns affects only that
// thread), so the calling process's own namespace is never touched.
#pragma once

#include <optional>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sched.h>

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

// Runs `f` (returning a Result) on a thread that joined `netns_fd` first. Sockets and taps
// that `f` creates belong to that namespace; fds it returns stay usable anywhere.
template <typename F>
auto run_in_netns(int netns_fd, F&& f) -> decltype(f()) {
    std::optional<decltype(f())> out;
    std::thread worker([&] {
        if (::setns(netns_fd, CLONE_NEWNET) != 0) {
            out.emplace(
                Err(Error::from_errno("setns CLONE_NEWNET fd " + std::to_string(netns_fd))));
            return;
        }
        out.emplace(f());
    });
    worker.join();
    return std::move(*out);
}

} // namespace runvm::network
