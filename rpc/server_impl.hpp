// The server's private state, shared by server.cpp (lifecycle, accept loop) and
// server_connection.cpp (one reader thread per connection, dispatch to the worker pool).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/owned_thread.hpp"
#include "base/unique_fd.hpp"
#include "rpc/frame_io.hpp"
#include "rpc/message.hpp"
#include "rpc/server.hpp"
#include "rpc/worker_pool.hpp"

namespace runvm::rpc {

// Readers and pool threads run handlers, which may wait on a container: a stop waits this
// long for the call in progress before it gives up on the thread (OwnedThread aborts).
inline constexpr std::chrono::milliseconds kHandlerStopTimeout{60'000};

// One served stream fd. Kept alive by the server's list until its first reader has exited,
// and by every thread that still has to write a response on it.
//
// Reading role: exactly one thread at a time reads the connection's frames and runs each
// request's handler itself (no hand-off to another thread for the common fast call). When
// a handler runs longer than ServerOptions::handoff_after, the server's watchdog gives the
// reading role to a pool thread (bumping `epoch`); the old thread finishes its call and
// leaves. So a slow call never blocks the calls behind it for long.
struct Connection {
    UniqueFd fd;
    std::string what;    // "ttrpc server connection fd N", for logs and errors
    std::mutex write_mu; // one frame at a time on the wire
    std::shared_ptr<std::atomic<bool>> closed = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> finished{false}; // reading ended: EOF, error or close
    OwnedThread reader;                // the first reader
    std::atomic<bool> reader_exited{false};
    std::unique_ptr<FrameReader> frames; // used only by the holder of the reading role

    std::mutex role_mu;   // guards the fields below
    uint64_t epoch = 0;   // which reader holds the reading role
    bool in_call = false; // the role holder is running a handler
    std::chrono::steady_clock::time_point call_started;

    // Writes one response frame; a failure closes the connection (its reader then exits).
    void send_response(uint32_t stream_id, const Status& status, std::string_view payload);
    // Makes the reader's read() return and later writes fail; the fd stays open until the
    // last owner lets go, so it cannot be reused under a writer.
    void close();
};

struct Server::Impl {
    explicit Impl(ServerOptions o) : options(o) {}

    ServerOptions options;

    std::shared_mutex handlers_mu;
    std::unordered_map<std::string, std::shared_ptr<const RawHandler>> handlers;

    std::mutex mu; // guards everything below
    bool started = false;
    bool stopped = false;
    std::vector<std::shared_ptr<Connection>> connections;
    std::unique_ptr<WorkerPool> pool;
    UniqueFd listen_fd;
    std::string listen_path;
    UniqueFd wake_fd; // eventfd: wakes the accept loop for shutdown
    OwnedThread accept_thread;

    // The watchdog that hands a connection's reading role on when a handler runs long.
    OwnedThread watchdog;
    std::mutex watchdog_mu;
    std::condition_variable watchdog_cv;
    bool watchdog_wake = false; // watchdog_mu
    bool watchdog_stop = false; // watchdog_mu
    std::atomic<bool> watchdog_idle{false};

    std::shared_ptr<const RawHandler> find_handler(const std::string& service,
                                                   const std::string& method);
    void accept_loop();
    Result<void> add_connection(UniqueFd fd);
    // Starts the reader of `conn`; mu held.
    void launch_reader(const std::shared_ptr<Connection>& conn);
    // Joins the readers that have finished and forgets their connections; mu held.
    void reap_finished();
    // Reads and serves requests while `epoch` holds the reading role.
    void read_loop(const std::shared_ptr<Connection>& conn, uint64_t epoch);
    // Runs one request's handler and writes its response.
    void serve_call(const std::shared_ptr<Connection>& conn, uint32_t stream_id,
                    DecodedRequest request);
    void watchdog_loop();
    // Gives the reading role of connections whose handler runs too long to pool threads;
    // true while some handler is running (the watchdog keeps watching).
    bool hand_off_slow_calls();
    void wake_watchdog();
};

std::string handler_key(std::string_view service, std::string_view method);

} // namespace runvm::rpc
