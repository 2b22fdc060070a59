// Stdio streams: each stream of each process is its own connection that the agent opens to
// the host: AF_VSOCK to the host (CID 2) on the port the request names, which the broker's
// hybrid vsock turns into a connection on <uds>_<port>; in host mode the Unix socket
// <prefix>_<port> directly, so both modes look the same to the host side.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent.pb.h"
#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/service/stdio_relay.hpp"

namespace runvm::agent {

struct StdioTransport {
    bool vsock = true;
    uint32_t host_cid = 2;   // VMADDR_CID_HOST
    std::string unix_prefix; // host mode: connect to "<unix_prefix>_<port>"

    Result<UniqueFd> connect(uint32_t port, std::chrono::milliseconds timeout) const;
};

// Copies between a pty master and its stream connection until the process side hangs up.
class PtyRelay {
public:
    PtyRelay(UniqueFd master, UniqueFd stream);
    ~PtyRelay(); // stops and joins
    PtyRelay(const PtyRelay&) = delete;
    PtyRelay& operator=(const PtyRelay&) = delete;
    int master() const { return master_.get(); }

private:
    void run();
    UniqueFd master_, stream_, stop_;
    OwnedThread thread_;
};

// The stdio of one process. Without a terminal the process gets pipe ends in/out/err (the
// agent closes its copies once the process is launched) and `relay` copies between the
// pipes and the streams; with one, the stream is kept for the pty relay.
struct ProcessStreams {
    UniqueFd in, out, err;
    std::unique_ptr<StdioRelay> relay;
    UniqueFd terminal_stream;
    StdioFds fds() const { return StdioFds{in.get(), out.get(), err.get()}; }
};

Result<ProcessStreams> open_process_streams(const StdioTransport& transport,
                                            const runvm::agent::v1::StdioPorts& ports,
                                            std::chrono::milliseconds timeout);

} // namespace runvm::agent
