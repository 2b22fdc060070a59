// StepClock: how long each step of a multi-step operation took, for one log line.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace runvm {

class StepClock {
public:
    using Clock = std::chrono::steady_clock;

    // Ends the current step, named `name`, and starts the next.
    void lap(const char* name) {
        const auto now = Clock::now();
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%s %.1f ms", text_.empty() ? "" : ", ", name,
                      std::chrono::duration<double, std::milli>(now - last_).count());
        text_ += buf;
        last_ = now;
    }
    // "rootfs 1.2 ms, stdio 3.4 ms"
    const std::string& str() const { return text_; }

private:
    Clock::time_point last_ = Clock::now();
    std::string text_;
};

} // namespace runvm
