// One poll on the client's socket and a stop doorbell.
#include "shim/container/client_hangup_watch.hpp"

#include <cerrno>

#include <poll.h>
#include <spdlog/spdlog.h>

namespace runvm::shim {

ClientHangupWatch::ClientHangupWatch(int fd, std::function<void()> on_hangup) {
    auto stop = EventFd::create();
    if (!stop) {
        spdlog::warn("client hangup watch: {}", stop.error().str());
        return;
    }
    stop_ = std::move(*stop);
    thread_ = OwnedThread("client hangup watch",
                          [fd, stop_fd = stop_.get(), on_hangup = std::move(on_hangup)] {
                              pollfd fds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {stop_fd, POLLIN, 0}};
                              while (::poll(fds, 2, -1) < 0) {
                                  if (errno != EINTR) {
                                      return;
                                  }
                              }
                              if (fds[0].revents && !fds[1].revents) {
                                  on_hangup();
                              }
                          });
}

ClientHangupWatch::~ClientHangupWatch() {
    if (thread_.joinable()) {
        (void)stop_.signal();
        thread_.stop_and_join();
    }
}

} // namespace runvm::shim
