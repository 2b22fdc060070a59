// pty allocation, console-socket hand-off, window sizes and raw mode.
#include "shim/container/console.hpp"

#include <cstring>

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/unix_socket.hpp"

namespace runvm::shim {

static_assert(sizeof(termios) <= 128, "RawTerminal::saved_ holds a termios");

Result<PtyPair> open_pty(unsigned rows, unsigned cols) {
    int master = -1;
    int slave = -1;
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows ? rows : 24);
    ws.ws_col = static_cast<unsigned short>(cols ? cols : 80);
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
        return Err(Error::from_errno("openpty"));
    }
    PtyPair p{UniqueFd(master), UniqueFd(slave)};
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    termios t{};
    if (::tcgetattr(slave, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
    }
    return p;
}

Result<void> send_console(const std::string& socket_path, int master) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd sock, connect_unix(socket_path, false));
    const char name[] = "/dev/ptmx";
    return send_with_fds(sock.get(), name, sizeof name - 1, {master},
                         ("console socket " + socket_path).c_str());
}

std::optional<WindowSize> window_size(int tty_fd) {
    winsize ws{};
    if (::ioctl(tty_fd, TIOCGWINSZ, &ws) != 0) {
        return std::nullopt;
    }
    return WindowSize{ws.ws_row, ws.ws_col};
}

Result<RawTerminal> RawTerminal::enter(int fd) {
    RawTerminal r;
    termios t{};
    if (::tcgetattr(fd, &t) != 0) {
        return Err(Error::from_errno("tcgetattr fd " + std::to_string(fd)));
    }
    std::memcpy(r.saved_, &t, sizeof t);
    ::cfmakeraw(&t);
    if (::tcsetattr(fd, TCSANOW, &t) != 0) {
        return Err(Error::from_errno("tcsetattr fd " + std::to_string(fd)));
    }
    r.fd_ = fd;
    return r;
}

RawTerminal::RawTerminal(RawTerminal&& o) noexcept : fd_(o.fd_) {
    std::memcpy(saved_, o.saved_, sizeof saved_);
    o.fd_ = -1;
}

RawTerminal& RawTerminal::operator=(RawTerminal&& o) noexcept {
    if (this != &o) {
        restore();
        fd_ = o.fd_;
        std::memcpy(saved_, o.saved_, sizeof saved_);
        o.fd_ = -1;
    }
    return *this;
}

void RawTerminal::restore() {
    if (fd_ >= 0) {
        termios t{};
        std::memcpy(&t, saved_, sizeof t);
        ::tcsetattr(fd_, TCSANOW, &t);
        fd_ = -1;
    }
}

RawTerminal::~RawTerminal() {
    restore();
}

} // namespace runvm::shim
