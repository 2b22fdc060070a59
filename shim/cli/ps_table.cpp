// ps -ef's columns for guest processes, spaced as procps-ng 3.3.17+ spaces them.
#include "shim/cli/ps_table.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace runvm::cli {

PsRow PsRow::from_json(const nlohmann::json& j) {
    PsRow r;
    r.pid = j.value("pid", 0u);
    r.ppid = j.value("ppid", 0u);
    r.uid = j.value("uid", 0u);
    r.user = j.value("user", std::string());
    r.args = j.value("args", std::vector<std::string>{});
    r.comm = j.value("comm", std::string());
    r.tty_nr = j.value("tty_nr", 0u);
    r.age_ms = j.value("age_ms", uint64_t{0});
    r.cpu_time_ms = j.value("cpu_time_ms", uint64_t{0});
    r.state = j.value("state", std::string());
    return r;
}

Result<PsColumns> ps_columns(const std::vector<std::string>& ps_args) {
    if (ps_args.empty()) {
        return PsColumns::full; // runc's default, -ef
    }
    PsColumns columns = PsColumns::brief;
    for (const auto& a : ps_args) {
        const bool ok =
            a.size() > 1 && a[0] == '-' && a.find_first_not_of("eAf", 1) == std::string::npos;
        if (!ok) {
            return Err(Error::msg("ps-args: '" + a +
                                  "' is not supported: guest processes are shown in the "
                                  "columns of ps -ef or ps -e"));
        }
        if (a.find('f') != std::string::npos) {
            columns = PsColumns::full;
        }
    }
    return columns;
}

std::string tty_name(uint32_t tty_nr) {
    if (tty_nr == 0) {
        return "?";
    }
    // Linux's new_encode_dev: minor's low 8 bits, major, then minor's high bits.
    const uint32_t major = (tty_nr >> 8) & 0xfff;
    const uint32_t minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    if (major >= 136 && major <= 143) {
        return "pts/" + std::to_string((major - 136) * 256 + minor);
    }
    if (major == 4) {
        return minor < 64 ? "tty" + std::to_string(minor) : "ttyS" + std::to_string(minor - 64);
    }
    if (major == 5 && minor == 1) {
        return "console";
    }
    return std::to_string(major) + ":" + std::to_string(minor);
}

std::string cpu_time_text(uint64_t ms) {
    const uint64_t s = ms / 1000;
    const uint64_t days = s / 86400;
    const std::string hms = fmt::format("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60);
    return days ? fmt::format("{}-{}", days, hms) : hms;
}

std::string start_time_text(std::time_t start, std::time_t now) {
    std::tm st{}, nt{};
    ::localtime_r(&start, &st);
    ::localtime_r(&now, &nt);
    char buf[32];
    const char* format = st.tm_year != nt.tm_year   ? "%Y"
                         : st.tm_yday != nt.tm_yday ? "%b%d"
                                                    : "%H:%M";
    return std::string(buf, std::strftime(buf, sizeof buf, format, &st));
}

namespace {

std::string command_of(const PsRow& r, PsColumns columns) {
    std::string cmd;
    if (columns == PsColumns::brief) {
        cmd = r.comm;
    } else {
        for (const auto& a : r.args) {
            cmd += (cmd.empty() ? "" : " ") + a;
        }
        if (cmd.empty()) {
            cmd = "[" + r.comm + "]";
        }
    }
    return r.state == "Z" ? cmd + " <defunct>" : cmd;
}

// procps' C: integer percent of CPU over the process's life, at most 99.
uint64_t cpu_percent(const PsRow& r) {
    const uint64_t seconds = r.age_ms / 1000;
    return seconds ? std::min<uint64_t>(99, r.cpu_time_ms / 10 / seconds) : 0;
}

} // namespace

std::string ps_table(std::vector<PsRow> rows, PsColumns columns, std::time_t now) {
    std::sort(rows.begin(), rows.end(),
              [](const PsRow& a, const PsRow& b) { return a.pid < b.pid; });
    std::string out;
    if (columns == PsColumns::brief) {
        out = fmt::format("{:>7} {:<8} {:>8} {}\n", "PID", "TTY", "TIME", "CMD");
        for (const auto& r : rows) {
            out += fmt::format("{:>7} {:<8} {:>8} {}\n", r.pid, tty_name(r.tty_nr),
                               cpu_time_text(r.cpu_time_ms), command_of(r, columns));
        }
        return out;
    }
    constexpr const char* kFull = "{:<8} {:>7} {:>7} {:>2} {:>5} {:<8} {:>8} {}\n";
    out = fmt::format(kFull, "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
    for (const auto& r : rows) {
        // ps prints the uid when the name is unknown or wider than the column.
        const std::string user =
            !r.user.empty() && r.user.size() <= 8 ? r.user : std::to_string(r.uid);
        const auto start = now - static_cast<std::time_t>(r.age_ms / 1000);
        out +=
            fmt::format(kFull, user, r.pid, r.ppid, cpu_percent(r), start_time_text(start, now),
                        tty_name(r.tty_nr), cpu_time_text(r.cpu_time_ms), command_of(r, columns));
    }
    return out;
}

} // namespace runvm::cli
