// Hybrid-vsock handshake parsing: strict ASCII, decimal port, bounded length.
#include "broker/devices/vsock/handshake.hpp"

namespace runvm::broker::vsock {

ConnectLine parse_connect_line(std::string_view data) {
    constexpr std::string_view prefix = "CONNECT ";
    const ConnectLine invalid{ConnectLine::Status::invalid, 0, 0};
    const ConnectLine incomplete{ConnectLine::Status::incomplete, 0, 0};
    const size_t n = std::min(data.size(), prefix.size());
    if (data.substr(0, n) != prefix.substr(0, n)) {
        return invalid;
    }
    const size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
        return data.size() >= MAX_CONNECT_LINE ? invalid : incomplete;
    }
    if (newline >= MAX_CONNECT_LINE) {
        return invalid;
    }
    std::string_view digits = data.substr(prefix.size(), newline - prefix.size());
    if (!digits.empty() && digits.back() == '\r') {
        digits.remove_suffix(1);
    }
    if (digits.empty() || digits.size() > 10) {
        return invalid;
    }
    uint64_t port = 0;
    for (char ch : digits) {
        if (ch < '0' || ch > '9') {
            return invalid;
        }
        port = port * 10 + static_cast<uint64_t>(ch - '0');
    }
    if (port > 0xffffffffULL) {
        return invalid;
    }
    return ConnectLine{ConnectLine::Status::complete, static_cast<uint32_t>(port), newline + 1};
}

std::string ok_line(uint32_t host_port) {
    return "OK " + std::to_string(host_port) + "\n";
}

} // namespace runvm::broker::vsock
