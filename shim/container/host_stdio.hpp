// The container's stdio on the host: a pty sent to --console-socket, or the fds `runvm
// create` was started with (runc's pass-through mode).
#pragma once

#include <optional>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "oci/spec.hpp"
#include "shim/container/console.hpp"
#include "shim/container/monitor_options.hpp"
#include "shim/sandbox/stdio_bridge.hpp"

namespace runvm::shim {

struct HostStdio {
    StdioFds fds;
    UniqueFd tty; // the pty slave or our terminal, polled for window size changes
    std::optional<RawTerminal> raw;
};

bool terminal_of(const oci::Spec& spec);

Result<HostStdio> host_stdio(const MonitorOptions& o, const oci::Spec& spec);

// Points this process's fds 0-2 at /dev/null once host_stdio() has taken what it needs. A
// monitor forked by `runvm create` must not hold the caller's stdio for the container's
// lifetime: go-runc reads a create's output until EOF, so containerd's runc shim (Docker's
// `-t`, where no stdio is given) would wait for the container to end.
Result<void> release_caller_stdio();

} // namespace runvm::shim
