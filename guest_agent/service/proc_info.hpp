// One guest process as `ps -ef` shows it, read from /proc/<pid> (stat, status, cmdline) and
// the container's /etc/passwd through /proc/<pid>/root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "agent.pb.h"

namespace runvm::agent {

// The fields of /proc/<pid>/stat that ps -ef needs (proc(5)); times in clock ticks.
struct ProcStat {
    std::string comm;
    char state = '?';
    uint32_t ppid = 0;
    uint32_t tty_nr = 0;
    uint64_t utime = 0, stime = 0, starttime = 0;
};

// Parses one /proc/<pid>/stat line; comm may hold spaces and parentheses (the last ')' ends it).
std::optional<ProcStat> parse_proc_stat(std::string_view line);

// The user name of `uid` in a passwd file's text; nullopt when no line names it.
std::optional<std::string> passwd_name(std::string_view passwd, uint32_t uid);

// Fills `e` (pid set by the caller) from /proc; false when the process is gone.
bool read_proc_entry(pid_t pid, v1::ProcessEntry& e);

} // namespace runvm::agent
