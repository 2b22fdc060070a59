// virtio-console (virtio 1.2 section 5.3) with one port: options, features, config space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::console {

struct ConsoleOptions {
    std::string log_path; // guest output is appended here
    // The cap on <log> plus <log>.1 (CappedLog): the guest fills it, the host keeps the tail.
    uint64_t log_max_bytes = 1024 * 1024;
};

// Port 0's queues; no MULTIPORT, so there are no control queues.
inline constexpr uint16_t RECEIVEQ = 0;
inline constexpr uint16_t TRANSMITQ = 1;

// The keys of "--console <sock>,log=<file>[,log_max_kib=<n>]" (16 to 1048576, default 1024).
inline constexpr std::string_view SPEC_KEYS[] = {"log", "log_max_kib"};
Result<ConsoleOptions> parse_options(const DeviceSpec& spec);

uint64_t console_features();
// struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr (all unused: 0/1).
std::vector<uint8_t> console_config_space();

} // namespace runvm::broker::console
