// Boot phase timestamps, printable and serializable for the state directory.
#include "shim/sandbox/boot_timeline.hpp"

#include <cstdio>

namespace runvm::shim {

void BootTimeline::mark(const std::string& phase) {
    if (has(phase)) {
        return;
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    phases_.emplace_back(phase, ms);
}

bool BootTimeline::has(const std::string& phase) const {
    for (const auto& [name, ms] : phases_) {
        if (name == phase) {
            return true;
        }
    }
    return false;
}

std::string BootTimeline::str() const {
    std::string out;
    char buf[64];
    for (const auto& [name, ms] : phases_) {
        std::snprintf(buf, sizeof buf, " %.1f ms", ms);
        out += (out.empty() ? "" : ", ") + name + buf;
    }
    return out;
}

nlohmann::json BootTimeline::to_json() const {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [name, ms] : phases_) {
        j.push_back({{"phase", name}, {"ms", ms}});
    }
    return j;
}

BootTimeline BootTimeline::from_json(const nlohmann::json& j) {
    BootTimeline t;
    if (!j.is_array()) {
        return t;
    }
    for (const auto& e : j) {
        if (e.is_object() && e.contains("phase") && e["phase"].is_string() && e.contains("ms") &&
            e["ms"].is_number()) {
            t.phases_.emplace_back(e["phase"].get<std::string>(), e["ms"].get<double>());
        }
    }
    return t;
}

} // namespace runvm::shim
