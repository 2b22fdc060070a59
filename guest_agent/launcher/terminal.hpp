// process.terminal: a pty made inside the container (its own devpts), the slave as the
// process's stdio and controlling terminal, the master handed to the launcher.
#pragma once

#include <optional>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

struct Pty {
    UniqueFd master;
    UniqueFd slave;
};

// Opens /dev/ptmx in the current root and its slave; applies `size` when given.
Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size);

// Binds the slave onto /dev/console, makes it fds 0-2 and the controlling terminal.
Result<void> attach_pty_slave(const Pty& pty);

// TIOCSWINSZ on a pty master (ResizeTty).
Result<void> resize_pty(int master_fd, uint32_t width, uint32_t height);

} // namespace runvm::agent
