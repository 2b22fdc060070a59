// UniqueFd's close, kept out of line so <unistd.h> stays out of every header.
#include "base/unique_fd.hpp"

#include <cerrno>
#include <unistd.h>

namespace runvm {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0 && fd_ != fd) {
        const int saved = errno;
        ::close(fd_);
        errno = saved;
    }
    fd_ = fd;
}

} // namespace runvm
