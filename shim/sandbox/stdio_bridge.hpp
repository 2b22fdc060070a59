// StdioBridge: joins a process's host-side stdio fds to the guest's per-stream vsock
// connections (the agent dials one host port per stream; the broker lands each on
// <vsock uds>_<port>, where this listens).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

struct StdioFds {
    // Host-side fds (owned by the bridge); invalid: the stream is not connected.
    UniqueFd in;
    UniqueFd out;
    UniqueFd err;
};

struct StdioPortNumbers {
    uint32_t stdin_port = 0;
    uint32_t stdout_port = 0;
    uint32_t stderr_port = 0;
};

class StdioBridge {
public:
    // Listens on <vsock_uds>_<port> for each stream whose fd is valid; ports are
    // first_port, first_port+1, first_port+2. With a terminal the agent dials the stdout
    // port only and that one stream carries both ways (its PtyRelay): stdin gets no port
    // and is copied into the stdout connection.
    static Result<std::unique_ptr<StdioBridge>>
    open(const std::string& vsock_uds, uint32_t first_port, StdioFds fds, bool terminal = false);
    ~StdioBridge(); // stops the pump thread, removes the listening sockets

    StdioBridge(const StdioBridge&) = delete;
    StdioBridge& operator=(const StdioBridge&) = delete;

    const StdioPortNumbers& ports() const { return ports_; }

    // Waits until every guest output stream reached EOF (the process exited and its
    // output is flushed); false on timeout.
    bool wait_output_done(std::chrono::milliseconds timeout);

    // Stops pumping now; pending output is dropped.
    void stop();

private:
    enum Stream { in = 0, out = 1, err = 2 };
    struct Channel {
        std::string path;  // listening socket path
        UniqueFd listener; // until the guest connects
        UniqueFd guest;    // the accepted vsock stream
        UniqueFd host;     // the host-side fd
        bool done = false;
    };

    StdioBridge() = default;
    void run();
    bool pump(Channel& c, bool to_guest);
    void finish(Channel& c);

    Channel ch_[3];
    bool terminal_ = false;
    StdioPortNumbers ports_;
    UniqueFd stop_fd_; // eventfd
    OwnedThread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    int outputs_open_ = 0; // guarded by mu_
};

} // namespace runvm::shim
