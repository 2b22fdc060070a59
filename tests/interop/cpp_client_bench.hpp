// Throughput and latency of unary Echo calls from runvm's C++ ttRPC client, for
// scripts/bench/ttrpc.sh.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "base/result.hpp"

namespace runvm::interop {

struct BenchConfig {
    std::string socket;
    size_t conns = 1;
    size_t callers = 4; // sequential callers per connection
    std::chrono::milliseconds duration{3000};
    size_t payload = 64;
};

// Runs the calls and prints one "BENCH client=cpp ..." line to stdout.
Result<void> run_bench(const BenchConfig& config);

} // namespace runvm::interop
