// pty inside the container, like runc's setupConsole + mountConsole.
#include "guest_agent/launcher/terminal.hpp"

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "guest_agent/launcher/fs_paths.hpp"

namespace runvm::agent {

Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size) {
    Pty pty;
    pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master) {
        return Err(Error::from_errno("open /dev/ptmx"));
    }
    int unlock = 0;
    if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) < 0) {
        return Err(Error::from_errno("ioctl TIOCSPTLCK /dev/ptmx"));
    }
    unsigned int n = 0;
    if (::ioctl(pty.master.get(), TIOCGPTN, &n) < 0) {
        return Err(Error::from_errno("ioctl TIOCGPTN /dev/ptmx"));
    }
    const std::string slave = "/dev/pts/" + std::to_string(n);
    pty.slave.reset(::open(slave.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) {
        return Err(Error::from_errno("open " + slave));
    }
    if (size) {
        RUNVM_TRY(resize_pty(pty.master.get(), size->width, size->height));
    }
    return pty;
}

Result<void> attach_pty_slave(const Pty& pty) {
    char name[64] = {};
    if (::ttyname_r(pty.slave.get(), name, sizeof name) != 0) {
        return Err(Error::from_errno("ttyname pty slave"));
    }
    RUNVM_TRY(touch_file("/dev/console"));
    if (::mount(name, "/dev/console", nullptr, MS_BIND, nullptr) < 0) {
        return Err(Error::from_errno(std::string("bind ") + name + " on /dev/console"));
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (::dup2(pty.slave.get(), fd) < 0) {
            return Err(Error::from_errno("dup2 pty slave to " + std::to_string(fd)));
        }
    }
    if (::ioctl(0, TIOCSCTTY, 0) < 0) {
        return Err(Error::from_errno("ioctl TIOCSCTTY"));
    }
    return Ok();
}

Result<void> resize_pty(int master_fd, uint32_t width, uint32_t height) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(std::min<uint32_t>(width, 0xffff));
    ws.ws_row = static_cast<unsigned short>(std::min<uint32_t>(height, 0xffff));
    if (::ioctl(master_fd, TIOCSWINSZ, &ws) < 0) {
        return Err(Error::from_errno("ioctl TIOCSWINSZ"));
    }
    return Ok();
}

} // namespace runvm::agent
