// Unix stream sockets for ttRPC: listening (with stale-socket removal) and connecting with
// a deadline.
#pragma once

#include <chrono>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::rpc {

// Binds and listens on `path`. A socket file there that nobody accepts on (ECONNREFUSED)
// is stale and removed; a live one or a file of another type is an error.
Result<UniqueFd> listen_unix_socket(const std::string& path, int backlog = 128);

// Connects to `path`, retrying while the server is not there yet or its backlog is full
// (ENOENT, ECONNREFUSED, EAGAIN) until `timeout` has passed.
Result<UniqueFd> connect_unix_socket(const std::string& path, std::chrono::milliseconds timeout);

// True when `fd` is a stream socket (ttRPC needs ordered bytes and shutdown()).
Result<void> check_stream_socket(int fd);

} // namespace runvm::rpc
