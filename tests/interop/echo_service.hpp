// runvm.interop.v1.Echo, the interop test service, served by runvm's C++ ttRPC server;
// the Go twin is go/src/runvm.dev/interop/echo/service.go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "rpc/call_context.hpp"
#include "rpc/server.hpp"
#include "rpc/status.hpp"

namespace runvm::interop {

inline constexpr std::string_view kService = "runvm.interop.v1.Echo";
inline constexpr std::string_view kMethodEcho = "Echo";
inline constexpr std::string_view kMethodFail = "Fail";
inline constexpr std::string_view kMethodMetadata = "Metadata";
inline constexpr std::string_view kMethodSleep = "Sleep";

// Fail's request "code:message", split at the first colon.
Result<rpc::Status> parse_fail(std::string_view spec);

// Metadata pairs as "k=v;k=v", sorted, so both servers answer alike.
std::string format_metadata(const rpc::Metadata& metadata);

// The largest Echo payload whose Request (with a timeout, 11 bytes at most) and Response
// (with an OK status, 2 bytes) both fit in ttRPC's 4 MiB message limit.
size_t max_echo_payload();

// Registers Echo, Fail, Metadata and Sleep on `server`.
void register_echo_service(rpc::Server& server);

} // namespace runvm::interop
