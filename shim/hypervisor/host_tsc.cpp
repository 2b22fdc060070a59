// Reads the host TSC rate from /proc/cpuinfo.
#include "shim/hypervisor/host_tsc.hpp"

#include <charconv>
#include <string>

#include "base/io.hpp"

namespace runvm::shim {

std::optional<uint64_t> tsc_khz_from_cpuinfo(std::string_view cpuinfo) {
    const auto at = cpuinfo.find("cpu MHz");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const auto colon = cpuinfo.find(':', at);
    const auto eol = cpuinfo.find('\n', at);
    if (colon == std::string_view::npos || (eol != std::string_view::npos && colon > eol)) {
        return std::nullopt;
    }
    std::string_view v = cpuinfo.substr(
        colon + 1, eol == std::string_view::npos ? std::string_view::npos : eol - colon - 1);
    while (!v.empty() && v.front() == ' ') {
        v.remove_prefix(1);
    }
    // "2596.132" -> 2596132 kHz, without floating point.
    uint64_t mhz = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), mhz);
    if (ec != std::errc() || mhz == 0) {
        return std::nullopt;
    }
    uint64_t khz = mhz * 1000;
    if (p < v.data() + v.size() && *p == '.') {
        uint64_t scale = 100;
        for (++p; p < v.data() + v.size() && *p >= '0' && *p <= '9' && scale > 0; ++p) {
            khz += static_cast<uint64_t>(*p - '0') * scale;
            scale /= 10;
        }
    }
    return khz;
}

std::optional<uint64_t> host_tsc_khz() {
    auto text = read_file("/proc/cpuinfo");
    if (!text) {
        return std::nullopt;
    }
    return tsc_khz_from_cpuinfo(*text);
}

} // namespace runvm::shim
