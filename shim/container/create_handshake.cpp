// The ready pipe and bundle paths shared by the monitor and the pod member's stand-in.
#include "shim/container/create_handshake.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/io.hpp"

namespace runvm::shim {

void report_ready(int fd, const std::string& line) {
    if (fd >= 0) {
        (void)write_all(fd, line.data(), line.size(), "ready pipe");
        ::close(fd);
    }
}

void report_create_failure(int ready_fd, const std::string& id, const std::string& error,
                           std::string* out) {
    if (ready_fd >= 0) {
        report_ready(ready_fd, "error " + error + "\n");
    } else if (out) {
        *out = error;
    } else {
        spdlog::error("create {}: {}", id, error);
    }
}

std::string absolute(const std::string& base, const std::string& path) {
    return !path.empty() && path[0] == '/' ? path : base + "/" + path;
}

} // namespace runvm::shim
