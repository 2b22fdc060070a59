// BootTimeline: when each phase of a sandbox's boot was reached, relative to its start.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace runvm::shim {

class BootTimeline {
public:
    using Clock = std::chrono::steady_clock;
    BootTimeline() : start_(Clock::now()) {}
    // From an earlier start: steady_clock is CLOCK_MONOTONIC, one clock for every process.
    explicit BootTimeline(Clock::time_point start) : start_(start) {}

    // Records `phase` now (the first mark of a phase wins).
    void mark(const std::string& phase);
    bool has(const std::string& phase) const;
    const std::vector<std::pair<std::string, double>>& phases() const { return phases_; }

    // "hypervisor started 12.1 ms, kernel running 480.3 ms, ..."
    std::string str() const;
    nlohmann::json to_json() const; // {"phase": ms, ...} in order
    static BootTimeline from_json(const nlohmann::json& j);

private:
    Clock::time_point start_;
    std::vector<std::pair<std::string, double>> phases_; // ms since start
};

} // namespace runvm::shim
