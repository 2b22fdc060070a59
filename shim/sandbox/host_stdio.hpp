// The container's stdio on the host: a pty sent to --console-socket, or the fds `runvm
// create` was started with (runc's pass-through mode).
#pragma once

#include <optional>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "oci/spec.hpp"
#include "shim/sandbox/console.hpp"
#include "shim/sandbox/monitor.hpp"
#include "shim/sandbox/stdio_bridge.hpp"

namespace runvm::shim {

struct HostStdio {
    StdioFds fds;
    UniqueFd tty; // the pty slave or our terminal, polled for window size changes
    std::optional<RawTerminal> raw;
};

bool terminal_of(const oci::Spec& spec);

Result<HostStdio> host_stdio(const MonitorOptions& o, const oci::Spec& spec);

} // namespace runvm::shim
