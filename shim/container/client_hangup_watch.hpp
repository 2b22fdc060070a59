// ClientHangupWatch: runs an action if a client's connection hangs up while the watch
// lives (an exec whose `runvm exec` client was killed); the drop stops the watch thread.
#pragma once

#include <functional>

#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"

namespace runvm::shim {

class ClientHangupWatch {
public:
    // `fd` must stay open while the watch lives; the client sends nothing more on it, so any
    // readable state is its end.
    ClientHangupWatch(int fd, std::function<void()> on_hangup);
    ~ClientHangupWatch();
    ClientHangupWatch(const ClientHangupWatch&) = delete;
    ClientHangupWatch& operator=(const ClientHangupWatch&) = delete;

private:
    EventFd stop_;
    OwnedThread thread_;
};

} // namespace runvm::shim
