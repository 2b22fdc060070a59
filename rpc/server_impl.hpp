// The server's private state, shared by server.cpp (lifecycle, accept loop) and
// server_connection.cpp (one reader thread per connection, dispatch to the worker pool).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.hpp"
#include "rpc/message.hpp"
#include "rpc/server.hpp"
#include "rpc/worker_pool.hpp"

namespace runvm::rpc {

// One served stream fd. Kept alive by the server's list until its reader is joined, and by
// every job that still has to write a response on it.
struct Connection {
    UniqueFd fd;
    std::string what;    // "ttrpc server connection fd N", for logs and errors
    std::mutex write_mu; // one frame at a time on the wire
    std::shared_ptr<std::atomic<bool>> closed = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> finished{false}; // the reader thread has returned
    std::thread reader;

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
    std::thread accept_thread;

    std::shared_ptr<const RawHandler> find_handler(const std::string& service,
                                                   const std::string& method);
    void accept_loop();
    Result<void> add_connection(UniqueFd fd);
    // Starts the reader of `conn`; mu held.
    void launch_reader(const std::shared_ptr<Connection>& conn);
    // Joins the readers that have finished and forgets their connections; mu held.
    void reap_finished();
    void read_loop(const std::shared_ptr<Connection>& conn);
    void dispatch(const std::shared_ptr<Connection>& conn, uint32_t stream_id,
                  DecodedRequest request);
};

std::string handler_key(std::string_view service, std::string_view method);

} // namespace runvm::rpc
