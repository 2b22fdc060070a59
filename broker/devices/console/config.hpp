// virtio-console (virtio 1.2 section 5.3) with one port: options, features, config space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::console {

struct ConsoleOptions {
    std::string log_path; // guest output is appended here
};

// Port 0's queues; no MULTIPORT, so there are no control queues.
inline constexpr uint16_t RECEIVEQ = 0;
inline constexpr uint16_t TRANSMITQ = 1;

// The keys of "--console <sock>,log=<file>".
inline constexpr std::string_view SPEC_KEYS[] = {"log"};
Result<ConsoleOptions> parse_options(const DeviceSpec& spec);

uint64_t console_features();
// struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr (all unused: 0/1).
std::vector<uint8_t> console_config_space();

} // namespace runvm::broker::console
