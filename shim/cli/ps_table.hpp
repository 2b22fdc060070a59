// runvm ps's table: the guest's processes in the columns of procps' `ps -ef` (or `ps -e`).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace runvm::cli {

// One process as the monitor's "ps" reply carries it (the agent's ProcessEntry).
struct PsRow {
    uint32_t pid = 0, ppid = 0, uid = 0;
    std::string user;
    std::vector<std::string> args;
    std::string comm;
    uint32_t tty_nr = 0;
    uint64_t age_ms = 0, cpu_time_ms = 0;
    std::string state;

    static PsRow from_json(const nlohmann::json& j);
};

// ps -ef (full: UID PID PPID C STIME TTY TIME CMD) or ps -e (PID TTY TIME CMD).
enum class PsColumns { brief, full };

// runc passes its ps-args to the host's ps (default -ef); guest processes are formatted
// here, so only the selection flags e, A and f are understood.
Result<PsColumns> ps_columns(const std::vector<std::string>& ps_args);

// "?" for none, pts/N, ttyN, ttySN, console, else "major:minor" (procps' dev_to_tty names).
std::string tty_name(uint32_t tty_nr);
// Cumulative CPU time as ps prints it: HH:MM:SS, D-HH:MM:SS past a day.
std::string cpu_time_text(uint64_t ms);
// STIME: HH:MM when started today, MonDD this year, else the year (local time).
std::string start_time_text(std::time_t start, std::time_t now);

// The header and one line per row (sorted by pid); `now` places the rows' ages.
std::string ps_table(std::vector<PsRow> rows, PsColumns columns, std::time_t now);

} // namespace runvm::cli
