// Receiving a pty master the way runc's --console-socket sends it.
#include "shim/containerd/console_receiver.hpp"

#include <cstdlib>

#include <poll.h>
#include <unistd.h>

#include "base/unix_socket.hpp"

namespace runvm::containerd {

Result<std::unique_ptr<ConsoleReceiver>> ConsoleReceiver::listen(const std::string& label) {
    std::unique_ptr<ConsoleReceiver> r(new ConsoleReceiver());
    // Short and private: sun_path holds 107 bytes and the pty master is a capability.
    std::string templ = "/tmp/runvm-console-XXXXXX";
    if (!::mkdtemp(templ.data())) {
        return Err(Error::from_errno("mkdtemp " + templ + " for " + label));
    }
    r->dir_ = templ;
    r->path_ = templ + "/pty.sock";
    RUNVM_ASSIGN_OR_RETURN(r->listener_, listen_unix(r->path_, 1));
    return r;
}

ConsoleReceiver::~ConsoleReceiver() {
    listener_.reset();
    if (!path_.empty()) {
        ::unlink(path_.c_str());
    }
    if (!dir_.empty()) {
        ::rmdir(dir_.c_str());
    }
}

Result<UniqueFd> ConsoleReceiver::receive(std::chrono::milliseconds timeout) {
    pollfd pf{listener_.get(), POLLIN, 0};
    int n;
    do {
        n = ::poll(&pf, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return Err(Error::with_errno(n == 0 ? ETIMEDOUT : errno,
                                     "console socket " + path_ + ": no pty master arrived"));
    }
    RUNVM_ASSIGN_OR_RETURN(UniqueFd conn, accept_unix(listener_.get(), false, "console socket"));
    if (!conn) {
        return Err(Error::with_errno(EAGAIN, "accept on console socket " + path_));
    }
    pollfd cf{conn.get(), POLLIN, 0};
    do {
        n = ::poll(&cf, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return Err(Error::with_errno(ETIMEDOUT, "console socket " + path_ + ": no message"));
    }
    char name[256];
    RUNVM_ASSIGN_OR_RETURN(ReceivedFds got,
                           recv_with_fds(conn.get(), name, sizeof name, 1, "console socket"));
    if (got.fds.empty()) {
        return Err(Error::with_errno(EPROTO, "console socket " + path_ + ": message without fd"));
    }
    return std::move(got.fds.front());
}

} // namespace runvm::containerd
