// The container's host stdio: a pty for a terminal, else the caller's fds 0-2.
#include "shim/container/host_stdio.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace runvm::shim {

bool terminal_of(const oci::Spec& spec) {
    return spec.process && spec.process->terminal.value_or(false);
}

Result<HostStdio> host_stdio(const MonitorOptions& o, const oci::Spec& spec) {
    HostStdio h;
    const bool terminal = terminal_of(spec);
    if (terminal && !o.console_socket.empty()) {
        unsigned rows = 0;
        unsigned cols = 0;
        if (spec.process->console_size) {
            rows = spec.process->console_size->height;
            cols = spec.process->console_size->width;
        }
        RUNVM_ASSIGN_OR_RETURN(PtyPair pty, open_pty(rows, cols));
        RUNVM_TRY(send_console(o.console_socket, pty.master.get()));
        h.fds.in = UniqueFd(::dup(pty.slave.get()));
        h.fds.out = UniqueFd(::dup(pty.slave.get()));
        h.tty = std::move(pty.slave);
        return h;
    }
    if (terminal && !o.start_immediately) {
        return Err(Error::msg("process.terminal needs --console-socket for create"));
    }
    if (terminal && ::isatty(0)) {
        auto raw = RawTerminal::enter(0);
        if (raw) {
            h.raw.emplace(std::move(*raw));
        }
        h.tty = UniqueFd(::dup(0));
    }
    h.fds.in = UniqueFd(::fcntl(0, F_DUPFD_CLOEXEC, 3));
    h.fds.out = UniqueFd(::fcntl(1, F_DUPFD_CLOEXEC, 3));
    if (!terminal) {
        h.fds.err = UniqueFd(::fcntl(2, F_DUPFD_CLOEXEC, 3));
    }
    return h;
}

Result<void> release_caller_stdio() {
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) {
        return Err(Error::from_errno("open /dev/null"));
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (::dup2(null.get(), fd) < 0) {
            return Err(Error::from_errno("dup2 /dev/null to fd " + std::to_string(fd)));
        }
    }
    return Ok();
}

} // namespace runvm::shim
