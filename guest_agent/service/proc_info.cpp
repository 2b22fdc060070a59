// ListProcesses' columns from /proc (proc(5)): stat for ppid, tty, times and state; status for
// the effective uid; cmdline for the arguments.
#include "guest_agent/service/proc_info.hpp"

#include <ctime>

#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"

namespace runvm::agent {

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return std::nullopt;
    }
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
    // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime ...
    const auto f = words(line.substr(close + 1));
    if (f.size() < 20 || f[0].size() != 1) {
        return std::nullopt;
    }
    const auto ppid = parse_u64(f[1]);
    const auto tty = parse_u64(f[4]);
    const auto utime = parse_u64(f[11]);
    const auto stime = parse_u64(f[12]);
    const auto start = parse_u64(f[19]);
    if (!ppid || !tty || !utime || !stime || !start) {
        return std::nullopt;
    }
    ProcStat s;
    s.comm = std::string(line.substr(open + 1, close - open - 1));
    s.state = f[0][0];
    s.ppid = static_cast<uint32_t>(*ppid);
    s.tty_nr = static_cast<uint32_t>(*tty);
    s.utime = *utime;
    s.stime = *stime;
    s.starttime = *start;
    return s;
}

std::optional<std::string> passwd_name(std::string_view passwd, uint32_t uid) {
    for (const auto line : split(passwd, '\n')) {
        const auto f = split(line, ':');
        if (f.size() >= 3 && parse_u64(f[2]) == uid && !f[0].empty()) {
            return std::string(f[0]);
        }
    }
    return std::nullopt;
}

namespace {

// "Uid:\treal\teffective\tsaved\tfs": ps -ef's UID column is the effective one.
std::optional<uint32_t> effective_uid(const std::string& status) {
    for (const auto line : split(status, '\n')) {
        if (line.starts_with("Uid:")) {
            const auto w = words(line.substr(4));
            if (w.size() >= 2) {
                if (auto v = parse_u64(w[1])) {
                    return static_cast<uint32_t>(*v);
                }
            }
        }
    }
    return std::nullopt;
}

uint64_t ticks_to_ms(uint64_t ticks) {
    const long hz = ::sysconf(_SC_CLK_TCK);
    return ticks * 1000 / static_cast<uint64_t>(hz > 0 ? hz : 100);
}

} // namespace

bool read_proc_entry(pid_t pid, v1::ProcessEntry& e) {
    const std::string dir = "/proc/" + std::to_string(pid);
    auto stat_text = read_file(dir + "/stat");
    if (!stat_text) {
        return false;
    }
    auto st = parse_proc_stat(*stat_text);
    if (!st) {
        return false;
    }
    e.set_ppid(st->ppid);
    e.set_comm(st->comm);
    e.set_state(std::string(1, st->state));
    e.set_tty_nr(st->tty_nr);
    e.set_cpu_time_ms(ticks_to_ms(st->utime + st->stime));
    // starttime counts from boot in CLOCK_BOOTTIME (Linux 5.5+ start_boottime).
    timespec now{};
    ::clock_gettime(CLOCK_BOOTTIME, &now);
    const uint64_t now_ms =
        static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
    const uint64_t start_ms = ticks_to_ms(st->starttime);
    e.set_age_ms(now_ms > start_ms ? now_ms - start_ms : 0);
    if (auto uid = effective_uid(read_file(dir + "/status").value_or(std::string()))) {
        e.set_uid(*uid);
        const auto passwd = read_file(dir + "/root/etc/passwd").value_or(std::string());
        e.set_user(passwd_name(passwd, *uid).value_or(std::string()));
    }
    const auto cmdline = read_file(dir + "/cmdline").value_or(std::string());
    auto args = split(cmdline, '\0');
    if (!args.empty() && args.back().empty()) {
        args.pop_back();
    }
    for (const auto a : args) {
        e.add_args(std::string(a));
    }
    return true;
}

} // namespace runvm::agent
