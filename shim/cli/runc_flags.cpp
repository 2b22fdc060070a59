// runc's flag syntaxes, parsed as Go (time.ParseDuration) and go-units (RAMInBytes) do.
#include "shim/cli/runc_flags.hpp"

#include <cmath>
#include <limits>
#include <optional>

#include "base/text.hpp"

namespace runvm::cli {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "12", "12.5", ".5", "12." as Go's leadingInt/leadingFraction take them: at least one digit.
// Advances `pos`; nullopt when no digit was there.
std::optional<long double> leading_number(std::string_view s, size_t& pos) {
    long double v = 0;
    bool any = false;
    while (pos < s.size() && is_digit(s[pos])) {
        v = v * 10 + (s[pos++] - '0');
        any = true;
    }
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        long double scale = 0.1L;
        while (pos < s.size() && is_digit(s[pos])) {
            v += (s[pos++] - '0') * scale;
            scale /= 10;
            any = true;
        }
    }
    return any ? std::optional(v) : std::nullopt;
}

Error bad_duration(std::string_view text) {
    return Error::msg("invalid duration \"" + std::string(text) + "\"");
}

} // namespace

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") {
        return std::chrono::nanoseconds(0);
    }
    if (s.empty()) {
        return Err(bad_duration(text));
    }
    struct Unit {
        std::string_view name;
        long double ns;
    };
    static constexpr Unit kUnits[] = {{"ns", 1},   {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3},
                                      {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},      {"h", 3600e9}};
    long double total = 0;
    size_t pos = 0;
    while (pos < s.size()) {
        const auto v = leading_number(s, pos);
        if (!v) {
            return Err(bad_duration(text));
        }
        size_t end = pos;
        while (end < s.size() && s[end] != '.' && !is_digit(s[end])) {
            ++end;
        }
        const std::string_view unit = s.substr(pos, end - pos);
        if (unit.empty()) {
            return Err(Error::msg("missing unit in duration \"" + std::string(text) + "\""));
        }
        const Unit* u = nullptr;
        for (const auto& k : kUnits) {
            if (k.name == unit) {
                u = &k;
            }
        }
        if (!u) {
            return Err(Error::msg("unknown unit \"" + std::string(unit) + "\" in duration \"" +
                                  std::string(text) + "\""));
        }
        total += *v * u->ns;
        pos = end;
    }
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
        return Err(bad_duration(text));
    }
    const auto ns = static_cast<int64_t>(total);
    return std::chrono::nanoseconds(negative ? -ns : ns);
}

Result<int64_t> parse_ram_in_bytes(std::string_view text) {
    const auto bad = [&] { return Error::msg("invalid size: '" + std::string(text) + "'"); };
    // ^(\d+(\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$
    size_t pos = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        ++pos;
    }
    if (pos == 0) {
        return Err(bad());
    }
    if (pos < text.size() && text[pos] == '.') {
        const size_t frac = ++pos;
        while (pos < text.size() && is_digit(text[pos])) {
            ++pos;
        }
        if (pos == frac) {
            return Err(bad());
        }
    }
    size_t num_end = pos;
    size_t p = 0;
    const auto v = leading_number(text.substr(0, num_end), p);
    if (pos < text.size() && text[pos] == ' ') {
        ++pos;
    }
    long double mul = 1;
    static constexpr std::string_view kUnits = "kmgtp";
    if (pos < text.size()) {
        const char c = static_cast<char>(text[pos] | 0x20);
        if (const size_t i = kUnits.find(c); i != std::string_view::npos) {
            mul = std::pow(1024.0L, static_cast<long double>(i + 1));
            ++pos;
        }
    }
    if (pos < text.size() && (text[pos] | 0x20) == 'i') {
        ++pos;
    }
    if (pos < text.size() && (text[pos] | 0x20) == 'b') {
        ++pos;
    }
    if (pos != text.size() || !v) {
        return Err(bad());
    }
    const long double bytes = *v * mul;
    if (bytes > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
        return Err(bad());
    }
    return static_cast<int64_t>(bytes);
}

const std::vector<UpdateFlag>& update_flags() {
    using K = UpdateFlag::Kind;
    static const std::vector<UpdateFlag> kFlags = {
        {"--memory", "/memory/limit", K::bytes, "memory limit (64m, 1g; -1: unlimited)"},
        {"--memory-reservation", "/memory/reservation", K::bytes,
         "memory reservation (soft limit)"},
        {"--memory-swap", "/memory/swap", K::bytes, "memory plus swap limit (-1: unlimited)"},
        {"--kernel-memory", "/memory/kernel", K::bytes, "kernel memory limit (cgroup v1 only)"},
        {"--kernel-memory-tcp", "/memory/kernelTCP", K::bytes,
         "kernel TCP memory limit (cgroup v1 only)"},
        {"--cpu-share,--cpu-shares", "/cpu/shares", K::u64, "CPU shares (relative weight)"},
        {"--cpu-quota", "/cpu/quota", K::i64, "CPU CFS quota in microseconds per period"},
        {"--cpu-period", "/cpu/period", K::u64, "CPU CFS period in microseconds"},
        {"--cpu-rt-period", "/cpu/realtimePeriod", K::u64, "CPU realtime period in microseconds"},
        {"--cpu-rt-runtime", "/cpu/realtimeRuntime", K::i64,
         "CPU realtime runtime in microseconds"},
        {"--cpuset-cpus", "/cpu/cpus", K::text, "CPUs to use (0-3, 0,1)"},
        {"--cpuset-mems", "/cpu/mems", K::text, "memory nodes to use (0-3, 0,1)"},
        {"--pids-limit", "/pids/limit", K::i64, "maximum number of pids (-1: unlimited)"},
        {"--blkio-weight", "/blockIO/weight", K::weight, "block IO weight, 10 to 1000"},
    };
    return kFlags;
}

Result<void> apply_update_flag(const UpdateFlag& flag, std::string_view value,
                               nlohmann::json& resources) {
    if (value.empty()) {
        return {};
    }
    std::string name = flag.names;
    name = name.substr(name.rfind(",--") == std::string::npos ? 0 : name.rfind(",--") + 1);
    const auto invalid = [&](const std::string& why) {
        return Err(Error::msg("invalid value for " + name + ": " + why));
    };
    const nlohmann::json::json_pointer at(flag.pointer);
    const std::string text(value);
    switch (flag.kind) {
    case UpdateFlag::Kind::bytes: {
        if (text == "-1") { // runc: unlimited
            resources[at] = -1;
            break;
        }
        auto v = parse_ram_in_bytes(text);
        if (!v) {
            return invalid(v.error().message());
        }
        resources[at] = *v;
        break;
    }
    case UpdateFlag::Kind::u64:
    case UpdateFlag::Kind::weight: {
        const auto v = parse_u64(text);
        if (!v) {
            return invalid("'" + text + "' is not an unsigned number");
        }
        if (flag.kind == UpdateFlag::Kind::weight && (*v < 10 || *v > 1000)) {
            return invalid("'" + text + "' is not between 10 and 1000");
        }
        resources[at] = *v;
        break;
    }
    case UpdateFlag::Kind::i64: {
        const bool negative = text.starts_with('-');
        const auto v = parse_u64(negative ? std::string_view(text).substr(1) : text);
        if (!v || *v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return invalid("'" + text + "' is not a number");
        }
        const auto n = static_cast<int64_t>(*v);
        // runc: pids-limit 0 leaves the limit as it is.
        if (n == 0 && std::string_view(flag.pointer) == "/pids/limit") {
            break;
        }
        resources[at] = negative ? -n : n;
        break;
    }
    case UpdateFlag::Kind::text:
        resources[at] = text;
        break;
    }
    return {};
}

} // namespace runvm::cli
