// RFC 3339 timestamps with nanoseconds, as Go's time.RFC3339Nano writes them in runc's state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace runvm::oci {

using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// "2024-05-01T10:11:12.5Z": UTC, trailing zeros of the fraction dropped, no fraction if zero.
std::string format_rfc3339_nano(Timestamp t);

// Accepts a fraction of 1 to 9 digits and "Z" or a "+hh:mm"/"-hh:mm" offset.
Result<Timestamp> parse_rfc3339(std::string_view text);

} // namespace runvm::oci
