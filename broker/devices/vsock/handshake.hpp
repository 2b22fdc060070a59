// The hybrid-vsock handshake lines: "CONNECT <port>\n" from a host client, "OK <port>\n"
// back to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runvm::broker::vsock {

inline constexpr size_t MAX_CONNECT_LINE = 32;

struct ConnectLine {
    enum class Status { complete, incomplete, invalid } status;
    uint32_t port;
    size_t length; // bytes of the line, newline included
};

// Parses the start of what a host client sent.
ConnectLine parse_connect_line(std::string_view data);
std::string ok_line(uint32_t host_port);

} // namespace runvm::broker::vsock
