// Host-side terminals: a pty pair whose master goes to runc's --console-socket receiver
// (containerd, podman) and whose slave the monitor bridges to the guest's tty stream.
#pragma once

#include <optional>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

struct PtyPair {
    UniqueFd master;
    UniqueFd slave; // raw mode: the guest's own pty does the line discipline
};

Result<PtyPair> open_pty(unsigned rows, unsigned cols);

// Sends `master` over the Unix socket at `socket_path` the way runc does (SCM_RIGHTS, the
// message is the pty's name).
Result<void> send_console(const std::string& socket_path, int master);

struct WindowSize {
    unsigned rows = 0;
    unsigned cols = 0;
    bool operator==(const WindowSize&) const = default;
};
std::optional<WindowSize> window_size(int tty_fd);

// Puts a terminal in raw mode and restores it on drop (the foreground `runvm run -t`).
class RawTerminal {
public:
    static Result<RawTerminal> enter(int fd);
    RawTerminal(RawTerminal&&) noexcept;
    RawTerminal& operator=(RawTerminal&&) noexcept;
    RawTerminal(const RawTerminal&) = delete;
    ~RawTerminal();

private:
    RawTerminal() = default;
    void restore();
    int fd_ = -1;
    unsigned char saved_[128] = {}; // struct termios, kept opaque here
};

} // namespace runvm::shim
