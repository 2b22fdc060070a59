// A process without a terminal gets pipes for its stdio, as runc's do (tty ioctls answer
// ENOTTY, fstat says FIFO, /proc/self/fd/N says pipe:[..]), and one relay thread per
// process copies between each pipe and its stream connection to the host.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

class StdioRelay {
public:
    // One stream and the agent's end of its pipe (stdin: the write end; stdout/stderr: the
    // read end); both invalid when the stream is not connected.
    struct Ends {
        UniqueFd stream, pipe;
    };

    static Result<std::unique_ptr<StdioRelay>> start(Ends in, Ends out, Ends err);
    ~StdioRelay(); // stops and joins; nothing more is copied
    StdioRelay(const StdioRelay&) = delete;
    StdioRelay& operator=(const StdioRelay&) = delete;

    // CloseStdin: the stdin pipe's write end closes (the process reads EOF); input the relay
    // still held is dropped, as the stream's own shutdown dropped it before.
    void close_stdin();
    // Once the process exited: true when what its output pipes held at this call has been
    // handed to the streams (or they are gone); false after `timeout`.
    bool flush(std::chrono::milliseconds timeout);

private:
    // One direction: `from` is read into `buf`, which is written out to `to` before the next
    // read. Every fd is non-blocking and used only by the relay thread.
    struct Pump {
        UniqueFd from, to;
        bool to_socket = false;
        std::unique_ptr<char[]> buf;
        size_t off = 0, len = 0;
        uint64_t moved = 0;  // bytes handed to `to`
        uint64_t target = 0; // a flush waits until moved reaches this
        bool done() const { return !from.valid() && !to.valid(); }
    };
    enum { in, out, err };

    StdioRelay() = default;
    void run();
    void finish(Pump& p);
    void read_from(Pump& p);
    void write_to(Pump& p);
    void take_requests();

    std::array<Pump, 3> pumps_;
    EventFd wake_;
    std::atomic<bool> stop_{false}, close_stdin_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    uint64_t flush_asked_ = 0, flush_seen_ = 0, flush_done_ = 0; // under mu_
    bool finished_ = false;                                      // under mu_: every pump done
    OwnedThread thread_;
};

} // namespace runvm::agent
