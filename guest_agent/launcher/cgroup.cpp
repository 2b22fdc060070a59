// cgroup v2 files, following runc's v1-to-v2 conversions (cpu.weight from shares).
#include "guest_agent/launcher/cgroup.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/launcher/fs_paths.hpp"

namespace runvm::agent {

namespace {
Result<void> write_text(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    return write_all(fd.get(), text.data(), text.size(), path.c_str());
}

std::map<std::string, uint64_t> read_keyed(const std::string& path) {
    return parse_keyed(read_file(path).value_or(std::string()));
}

// 0 for a missing file or a word that is not a number ("max").
uint64_t read_number(const std::string& path) {
    const auto w = words(read_file(path).value_or(std::string()));
    return w.empty() ? 0 : parse_u64(w[0]).value_or(0);
}

std::string limit_text(int64_t v) {
    return v < 0 ? "max" : std::to_string(v);
}
} // namespace

Result<std::vector<std::pair<std::string, std::string>>>
cgroup_v2_settings(const oci::Resources& r) {
    std::vector<std::pair<std::string, std::string>> out;
    if (r.memory) {
        if (r.memory->limit) {
            out.emplace_back("memory.max", limit_text(*r.memory->limit));
        }
        if (r.memory->reservation) {
            out.emplace_back("memory.low", limit_text(*r.memory->reservation));
        }
        if (r.memory->swap && r.memory->limit) {
            // v1 "swap" is memory+swap; v2 counts swap alone.
            const int64_t swap = *r.memory->swap;
            if (swap >= 0 && swap < *r.memory->limit) {
                return Err(Error::with_errno(
                    EINVAL, "linux.resources.memory.swap: smaller than memory.limit"));
            }
            out.emplace_back("memory.swap.max",
                             swap < 0 ? "max" : std::to_string(swap - *r.memory->limit));
        }
    }
    if (r.cpu) {
        if (r.cpu->shares && *r.cpu->shares != 0) {
            const uint64_t shares = *r.cpu->shares;
            if (shares < 2 || shares > 262144) {
                return Err(
                    Error::with_errno(EINVAL, "linux.resources.cpu.shares: not in [2, 262144]"));
            }
            out.emplace_back("cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142));
        }
        if (r.cpu->quota || r.cpu->period) {
            const uint64_t period = r.cpu->period.value_or(100000);
            const int64_t quota = r.cpu->quota.value_or(-1);
            if (period == 0) {
                return Err(Error::with_errno(EINVAL, "linux.resources.cpu.period: 0"));
            }
            out.emplace_back("cpu.max", (quota <= 0 ? std::string("max") : std::to_string(quota)) +
                                            " " + std::to_string(period));
        }
        if (r.cpu->cpus && !r.cpu->cpus->empty()) {
            out.emplace_back("cpuset.cpus", *r.cpu->cpus);
        }
        if (r.cpu->mems && !r.cpu->mems->empty()) {
            out.emplace_back("cpuset.mems", *r.cpu->mems);
        }
    }
    if (r.pids && r.pids->limit != 0) {
        out.emplace_back("pids.max", limit_text(r.pids->limit));
    }
    if (r.unified) {
        for (const auto& [k, v] : *r.unified) {
            if (k.find('/') != std::string::npos || k.find("..") != std::string::npos) {
                return Err(
                    Error::with_errno(EINVAL, "linux.resources.unified: bad key \"" + k + "\""));
            }
            out.emplace_back(k, v);
        }
    }
    return out;
}

std::optional<std::string> Cgroup::find_v2_mount() {
    const auto text = read_file("/proc/self/mountinfo");
    if (!text) {
        return std::nullopt;
    }
    for (const auto line : split(*text, '\n')) {
        // "<id> <parent> <dev> <root> <mount point> <options> ... - cgroup2 <source> ..."
        if (line.find(" - cgroup2 ") == std::string_view::npos) {
            continue;
        }
        const auto f = words(line);
        if (f.size() > 4) {
            return std::string(f[4]);
        }
    }
    return std::nullopt;
}

Result<Cgroup> Cgroup::create(const std::string& mount, const std::string& relative) {
    const std::string rel = clean_path(relative);
    // Controllers must be enabled in each parent's subtree_control before a child has them.
    std::string cur = mount;
    std::string enable;
    const auto controllers = read_file(mount + "/cgroup.controllers").value_or(std::string());
    for (const auto name : words(controllers)) {
        enable += (enable.empty() ? "+" : " +") + std::string(name);
    }
    size_t pos = 1;
    while (pos <= rel.size()) {
        if (!enable.empty()) {
            (void)write_text(cur + "/cgroup.subtree_control", enable); // best effort per level
        }
        size_t next = rel.find('/', pos);
        if (next == std::string::npos) {
            next = rel.size();
        }
        cur += "/" + rel.substr(pos, next - pos);
        if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir cgroup " + cur));
        }
        pos = next + 1;
    }
    return Cgroup(cur);
}

Result<void> Cgroup::apply(const oci::Resources& resources) const {
    RUNVM_ASSIGN_OR_RETURN(auto settings, cgroup_v2_settings(resources));
    for (const auto& [file, value] : settings) {
        RUNVM_TRY(write_text(path_ + "/" + file, value));
    }
    return Ok();
}

Result<void> Cgroup::add_process(pid_t pid) const {
    return write_text(path_ + "/cgroup.procs", std::to_string(pid));
}

Result<void> Cgroup::freeze(bool frozen) const {
    RUNVM_TRY(write_text(path_ + "/cgroup.freeze", frozen ? "1" : "0"));
    // cgroup.events says "frozen 1" once every task stopped; wait a bounded time for it.
    for (int i = 0; i < 200; ++i) {
        if (read_keyed(path_ + "/cgroup.events")["frozen"] == (frozen ? 1u : 0u)) {
            return Ok();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Err(Error::with_errno(ETIMEDOUT, "cgroup.freeze " + path_));
}

Result<std::vector<pid_t>> Cgroup::processes() const {
    RUNVM_ASSIGN_OR_RETURN(const std::string text, read_file(path_ + "/cgroup.procs"));
    std::vector<pid_t> pids;
    for (const auto w : words(text)) {
        const auto p = parse_u64(w);
        if (!p || *p == 0 || *p > static_cast<uint64_t>(INT32_MAX)) {
            break; // as the stream read did: stop at the first word that is not a pid
        }
        pids.push_back(static_cast<pid_t>(*p));
    }
    return pids;
}

Result<CgroupStats> Cgroup::stats() const {
    CgroupStats s;
    auto cpu = read_keyed(path_ + "/cpu.stat");
    s.cpu_usage_usec = cpu["usage_usec"];
    s.cpu_user_usec = cpu["user_usec"];
    s.cpu_system_usec = cpu["system_usec"];
    s.memory_current = read_number(path_ + "/memory.current");
    s.memory_limit = read_number(path_ + "/memory.max"); // "max" parses as 0
    s.pids_current = read_number(path_ + "/pids.current");
    // "<major>:<minor> rbytes=N wbytes=N rios=N ..." per device.
    const auto io = read_file(path_ + "/io.stat").value_or(std::string());
    for (const auto token : words(io)) {
        if (token.starts_with("rbytes=")) {
            s.io_read_bytes += parse_u64(token.substr(7)).value_or(0);
        } else if (token.starts_with("wbytes=")) {
            s.io_write_bytes += parse_u64(token.substr(7)).value_or(0);
        }
    }
    return s;
}

Result<void> Cgroup::remove() const {
    // A cgroup whose last task just exited can still read as busy for a moment.
    for (int i = 0; i < 100; ++i) {
        if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) {
            return Ok();
        }
        if (errno != EBUSY) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Err(Error::from_errno("rmdir cgroup " + path_));
}

} // namespace runvm::agent
