// Hybrid vsock (Firecracker's convention, served by runvm-broker): a host process reaches
// guest port P by connecting to the device's Unix socket and writing "CONNECT P\n".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

// One attempt: connect, handshake, wait up to `timeout` for "OK <hostport>\n". The fd is
// blocking and positioned after the handshake line.
Result<UniqueFd> vsock_connect(const std::string& uds, uint32_t port,
                               std::chrono::milliseconds timeout);

// Retries vsock_connect until it succeeds or `deadline`; `keep_going` is asked between
// attempts (false: the VM died, give up at once).
Result<UniqueFd> vsock_connect_retry(const std::string& uds, uint32_t port,
                                     std::chrono::steady_clock::time_point deadline,
                                     const std::function<Result<void>()>& keep_going);

// The other direction: a guest connecting to host port P reaches the Unix socket
// "<uds>_P", where the host listens.
std::string vsock_host_port_path(const std::string& uds, uint32_t port);

// Listens on vsock_host_port_path(uds, port) (listen_unix, `backlog`) and gives the socket to
// the owner of its directory: the broker dials it, and a jailed broker is the jail user,
// whose directory that is (connect needs write permission on the socket file).
Result<UniqueFd> listen_vsock_port(const std::string& uds, uint32_t port, int backlog);

// Waits until `deadline` for the guest to connect to `listener` (a listen_unix socket);
// `keep_going` is asked every few milliseconds (an error: the VM died, give up at once).
// The fd comes back blocking.
Result<UniqueFd> vsock_accept_guest(int listener, std::chrono::steady_clock::time_point deadline,
                                    const std::function<Result<void>()>& keep_going);

// Parses the handshake reply; exposed for tests and the fuzzer.
Result<uint32_t> parse_vsock_ok(const std::string& line);

} // namespace runvm::shim
