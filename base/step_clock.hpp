// StepClock: how long each step of a multi-step operation took, for one log line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace runvm {

class StepClock {
public:
    using Clock = std::chrono::steady_clock;

    // Ends the current step, named `name` (a literal: it is kept), and starts the next.
    void lap(const char* name) {
        const auto now = Clock::now();
        laps_.emplace_back(name, now - last_);
        last_ = now;
    }

    // "rootfs 1.2 ms, stdio 3.4 ms". Formatted only here, with integers: the guest agent
    // times every container start, and printf's floating-point code is cold under TCG.
    std::string str() const {
        std::string out;
        for (const auto& [name, took] : laps_) {
            const auto tenths =
                std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 100;
            out += (out.empty() ? "" : ", ") + std::string(name) + " " +
                   std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " ms";
        }
        return out;
    }

private:
    Clock::time_point last_ = Clock::now();
    std::vector<std::pair<const char*, Clock::duration>> laps_;
};

} // namespace runvm
