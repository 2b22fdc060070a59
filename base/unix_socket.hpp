// Unix stream sockets: listen, connect, and messages that carry fds by SCM_RIGHTS.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

// Binds and listens on `path` (an existing socket file there is replaced). Non-blocking,
// close-on-exec.
Result<UniqueFd> listen_unix(const std::string& path, int backlog);

// Connects to `path`; `nonblocking` sets O_NONBLOCK on the new socket before connecting.
Result<UniqueFd> connect_unix(const std::string& path, bool nonblocking);

// accept4 with CLOEXEC (and NONBLOCK when asked). EAGAIN comes back as an invalid fd.
Result<UniqueFd> accept_unix(int listen_fd, bool nonblocking, const char* what);

// Sends all of buf with `fds` attached to the first byte (sendmsg, MSG_NOSIGNAL).
Result<void> send_with_fds(int fd, const void* buf, size_t len, const std::vector<int>& fds,
                           const char* what);

struct ReceivedFds {
    size_t bytes = 0;           // 0 means the peer closed
    std::vector<UniqueFd> fds;  // every fd the kernel passed, owned even on error
    bool fds_truncated = false; // MSG_CTRUNC: the peer sent more than max_fds
};

// One recvmsg of up to len bytes and up to max_fds fds (CLOEXEC). Retries EINTR.
Result<ReceivedFds> recv_with_fds(int fd, void* buf, size_t len, size_t max_fds, const char* what);

// Sets or clears O_NONBLOCK.
Result<void> set_nonblocking(int fd, bool on, const char* what);

} // namespace runvm
