// The host's TSC frequency, for the guest's tsc_early_khz= (see qemu_backend.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace runvm::shim {

// kHz from /proc/cpuinfo's first "cpu MHz" line (constant_tsc hosts report the TSC rate).
std::optional<uint64_t> host_tsc_khz();

// Parses one cpuinfo text; exposed for tests.
std::optional<uint64_t> tsc_khz_from_cpuinfo(std::string_view cpuinfo);

} // namespace runvm::shim
