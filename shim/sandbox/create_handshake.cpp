// The ready pipe and bundle paths shared by the monitor and the pod member's stand-in.
#include "shim/sandbox/create_handshake.hpp"

#include <unistd.h>

#include "base/io.hpp"

namespace runvm::shim {

void report_ready(int fd, const std::string& line) {
    if (fd >= 0) {
        (void)write_all(fd, line.data(), line.size(), "ready pipe");
        ::close(fd);
    }
}

std::string absolute(const std::string& base, const std::string& path) {
    return !path.empty() && path[0] == '/' ? path : base + "/" + path;
}

} // namespace runvm::shim
