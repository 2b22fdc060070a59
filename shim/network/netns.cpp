// Network namespace files: open one, or make a fresh one on a throwaway thread.
#include "shim/network/netns.hpp"

#include <cerrno>

#include <fcntl.h>

namespace runvm::network {

Result<UniqueFd> open_netns(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open network namespace " + path));
    }
    return fd;
}

Result<UniqueFd> create_netns() {
    std::optional<Result<UniqueFd>> out;
    std::thread worker([&] {
        // unshare on this thread only: the namespace lives on through the fd opened here.
        if (::unshare(CLONE_NEWNET) != 0) {
            out.emplace(Err(Error::from_errno("unshare CLONE_NEWNET")));
            return;
        }
        out.emplace(open_netns("/proc/thread-self/ns/net"));
    });
    worker.join();
    return std::move(*out);
}

} // namespace runvm::network
