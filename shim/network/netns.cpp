// Network namespace files: open one, or make a fresh one on a throwaway thread.
#include "shim/network/netns.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>

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
    OwnedThread worker("netns create", [&] {
        // unshare on this thread only: the namespace lives on through the fd opened here.
        if (::unshare(CLONE_NEWNET) != 0) {
            out.emplace(Err(Error::from_errno("unshare CLONE_NEWNET")));
            return;
        }
        out.emplace(open_netns("/proc/thread-self/ns/net"));
    });
    worker.stop_and_join();
    return std::move(*out);
}

Result<void> refuse_host_netns(int netns_fd) {
    struct stat target {};
    if (::fstat(netns_fd, &target) != 0) {
        return Err(Error::from_errno("fstat network namespace fd " + std::to_string(netns_fd)));
    }
    // A namespace is one nsfs inode: the same device and inode number is the same namespace.
    struct Host {
        const char* file;
        const char* who;
    };
    for (const Host h : {Host{"/proc/1/ns/net", "the host's own network namespace (pid 1's)"},
                         Host{"/proc/self/ns/net", "the network namespace runvm itself runs in"}}) {
        struct stat st {};
        if (::stat(h.file, &st) != 0) {
            // Not root: pid 1's is not ours to see (nor to plumb).
            if (errno == EACCES || errno == EPERM || errno == ENOENT) {
                continue;
            }
            return Err(Error::from_errno(std::string("stat ") + h.file));
        }
        if (st.st_dev == target.st_dev && st.st_ino == target.st_ino) {
            return Err(Error::with_errno(
                EPERM, std::string("it is ") + h.who +
                           ": plumbing it would hand the host's interfaces to the VM; runvm "
                           "refuses it"));
        }
    }
    return Ok();
}

} // namespace runvm::network
