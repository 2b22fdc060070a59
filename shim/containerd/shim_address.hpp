// Where a shim listens: containerd 1.6's rule (runtime/v2/shim/util_unix.go), so containerd
// and other shims of the same group find the same socket.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::containerd {

// "unix:///run/containerd/s/<sha256 hex of address/namespace/group>" (filepath.Join of the
// three, as Go's SocketAddress does; `state_dir` is containerd's default state dir).
std::string socket_address(const std::string& containerd_address, const std::string& ns,
                           const std::string& group,
                           const std::string& state_dir = "/run/containerd");

// The filesystem path of a "unix://" address; an address without the scheme is abstract in
// containerd and is refused here.
Result<std::string> socket_path(const std::string& address);

// Go's filepath.Join: joins with '/', then cleans (no empty, "." or ".." elements).
std::string go_path_join(const std::string& a, const std::string& b, const std::string& c);

// Lower-case hex of SHA-256 over `data`.
std::string sha256_hex(const std::string& data);

} // namespace runvm::containerd
