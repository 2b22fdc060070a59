#include "shim/container/host_cgroup.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {
namespace {

constexpr std::string_view cgroup_root = "/sys/fs/cgroup";
constexpr std::array<std::string_view, 14> v1_controllers = {
    "blkio",  "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb",
    "memory", "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "misc"};

// Writes `value` to an existing cgroup file (no O_CREAT: a missing file is an error).
Result<void> write_cgroup_file(const std::string& path, const std::string& value) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        return Err(Error::from_errno("write " + value + " to " + path));
    }
    return {};
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

std::string join_path(const std::string& base, std::string_view rel) {
    std::string out = base;
    for (std::string_view part : split(rel, '/')) {
        if (part.empty() || part == ".") {
            continue;
        }
        out += "/";
        out += part;
    }
    return out;
}

// A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no process can join
// it until both are set: copy the parent's, as runc does.
Result<void> inherit_cpuset(const std::string& dir) {
    const std::string parent = dir.substr(0, dir.rfind('/'));
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        RUNVM_ASSIGN_OR_RETURN(std::string mine, read_file(dir + "/" + file));
        if (!trimmed(mine).empty()) {
            continue;
        }
        RUNVM_ASSIGN_OR_RETURN(std::string theirs, read_file(parent + "/" + file));
        RUNVM_TRY(write_cgroup_file(dir + "/" + file, trimmed(theirs)));
    }
    return {};
}

// On v2 a controller's files appear in a cgroup only once its parent delegates it.
void enable_v2_controllers(const std::string& parent) {
    auto available = read_file(parent + "/cgroup.controllers");
    if (!available.ok()) {
        return;
    }
    const auto names = words(*available);
    for (std::string_view controller : {"cpu", "memory", "pids"}) {
        if (std::find(names.begin(), names.end(), controller) == names.end()) {
            continue;
        }
        auto r =
            write_cgroup_file(parent + "/cgroup.subtree_control", "+" + std::string(controller));
        if (!r.ok()) {
            spdlog::warn("host cgroup: {}", r.error().str());
        }
    }
}

} // namespace

bool CgroupHierarchy::has(std::string_view controller) const {
    return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

CgroupLayout parse_cgroup_layout(std::string_view mountinfo, std::string_view self_cgroup) {
    CgroupLayout layout;
    for (std::string_view line : split(mountinfo, '\n')) {
        const auto fields = words(line);
        const auto dash = std::find(fields.begin(), fields.end(), "-");
        if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) {
            continue;
        }
        const std::string_view fstype = dash[1];
        CgroupHierarchy h;
        h.mount_point = std::string(fields[4]);
        if (fstype == "cgroup2") {
            h.unified = true;
        } else if (fstype == "cgroup") {
            // The super options name the controllers among mount flags (xattr, ...).
            for (std::string_view opt : split(dash[3], ',')) {
                if (opt.starts_with("name=") ||
                    std::find(v1_controllers.begin(), v1_controllers.end(), opt) !=
                        v1_controllers.end()) {
                    h.controllers.emplace_back(opt);
                }
            }
        } else {
            continue;
        }
        if (h.unified && h.mount_point == cgroup_root) {
            layout.v2 = true;
        }
        layout.hierarchies.push_back(std::move(h));
    }
    // /proc/self/cgroup: "4:memory:/a/b", "3:cpu,cpuacct:/", "0::/" (v2).
    for (std::string_view line : split(self_cgroup, '\n')) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string_view::npos || second == std::string_view::npos) {
            continue;
        }
        const std::string_view names = line.substr(first + 1, second - first - 1);
        const std::string path(line.substr(second + 1));
        for (CgroupHierarchy& h : layout.hierarchies) {
            std::vector<std::string> listed;
            for (std::string_view n : split(names, ',')) {
                if (!n.empty()) {
                    listed.emplace_back(n);
                }
            }
            auto sorted = h.controllers;
            std::sort(sorted.begin(), sorted.end());
            std::sort(listed.begin(), listed.end());
            if ((h.unified && names.empty()) ||
                (!h.unified && !listed.empty() && sorted == listed)) {
                h.own_path = path;
            }
        }
    }
    if (layout.v2) {
        // Only the hierarchy at /sys/fs/cgroup counts on a pure v2 host.
        std::erase_if(layout.hierarchies,
                      [](const CgroupHierarchy& h) { return h.mount_point != cgroup_root; });
    }
    return layout;
}

Result<CgroupLayout> read_cgroup_layout() {
    RUNVM_ASSIGN_OR_RETURN(std::string mountinfo, read_file("/proc/self/mountinfo"));
    RUNVM_ASSIGN_OR_RETURN(std::string self, read_file("/proc/self/cgroup"));
    return parse_cgroup_layout(mountinfo, self);
}

Result<CgroupPlacement> resolve_cgroups_path(const std::optional<std::string>& cgroups_path,
                                             bool systemd, const std::string& container_id) {
    const std::string given = cgroups_path.value_or("");
    CgroupPlacement placement;
    if (systemd) {
        // slice:prefix:name
        const std::string spelled = given.empty() ? ":runvm:" + container_id : given;
        const auto parts = split(spelled, ':');
        if (parts.size() != 3) {
            return Err(Error::msg("linux.cgroupsPath \"" + given +
                                  "\": with --systemd-cgroup it must be slice:prefix:name"));
        }
        std::string slice(parts[0].empty() ? "system.slice" : parts[0]);
        const std::string prefix(parts[1]);
        const std::string name(parts[2].empty() ? container_id : parts[2]);
        for (const std::string* part : {&std::as_const(slice), &prefix, &name}) {
            if (part->find('/') != std::string::npos || *part == "." || *part == "..") {
                return Err(Error::msg("linux.cgroupsPath \"" + given +
                                      "\": a systemd slice or unit name has no '/' or '..'"));
            }
        }
        if (!slice.ends_with(".slice")) {
            return Err(Error::msg("linux.cgroupsPath \"" + given + "\": \"" + slice +
                                  "\" is not a slice (*.slice)"));
        }
        // "a-b.slice" lives in "a.slice": each dash opens one more level, as systemd nests.
        std::string path;
        if (slice != "-.slice") {
            const std::string stem = slice.substr(0, slice.size() - 6);
            std::string level;
            for (std::string_view piece : split(stem, '-')) {
                if (piece.empty()) {
                    return Err(Error::msg("linux.cgroupsPath \"" + given + "\": slice \"" + slice +
                                          "\" has an empty part"));
                }
                level += level.empty() ? std::string(piece) : "-" + std::string(piece);
                path += "/" + level + ".slice";
            }
        }
        const std::string unit = name.ends_with(".slice")
                                     ? name
                                     : (prefix.empty() ? name : prefix + "-" + name) + ".scope";
        placement.path = path + "/" + unit;
        return placement;
    }
    const std::string path = given.empty() ? container_id : given;
    for (std::string_view part : split(path, '/')) {
        if (part == "..") {
            return Err(Error::msg("linux.cgroupsPath \"" + given +
                                  "\": \"..\" is refused (it would name another cgroup)"));
        }
    }
    placement.relative = path.front() != '/';
    placement.path = path;
    return placement;
}

bool is_systemd_cgroups_path(std::string_view cgroups_path) {
    return std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2 &&
           cgroups_path.find('/') == std::string_view::npos;
}

Result<HostCgroup> HostCgroup::create(const CgroupLayout& layout,
                                      const CgroupPlacement& placement) {
    HostCgroup cg;
    cg.hierarchies_ = layout.hierarchies;
    for (const CgroupHierarchy& h : cg.hierarchies_) {
        const std::string origin = join_path(h.mount_point, h.own_path);
        const std::string base = placement.relative ? origin : h.mount_point;
        const std::string dir = join_path(base, placement.path);
        if (dir == base) {
            return Err(Error::msg("linux.cgroupsPath \"" + placement.path +
                                  "\" names the hierarchy's root, not a cgroup of its own"));
        }
        // mkdir -p, one level at a time, so the cpuset and v2 set-up happen at each level.
        for (size_t pos = base.size(); pos != std::string::npos;) {
            pos = dir.find('/', pos + 1);
            const std::string level = dir.substr(0, pos);
            if (::mkdir(level.c_str(), 0755) == 0) {
                if (level == dir) {
                    cg.made_.push_back(level);
                }
                if (h.has("cpuset")) {
                    RUNVM_TRY(inherit_cpuset(level));
                }
            } else if (errno != EEXIST) {
                return Err(Error::from_errno("mkdir " + level));
            }
            if (h.unified && level != dir) {
                enable_v2_controllers(level);
            }
        }
        if (h.unified) {
            enable_v2_controllers(base);
        }
        cg.dirs_.push_back(dir);
        cg.origins_.push_back(origin);
    }
    return cg;
}

Result<HostCgroup> HostCgroup::existing(const CgroupLayout& layout,
                                        const std::vector<std::string>& dirs) {
    HostCgroup cg;
    cg.hierarchies_ = layout.hierarchies;
    for (const CgroupHierarchy& h : cg.hierarchies_) {
        const std::string below = h.mount_point + "/";
        const auto dir = std::find_if(dirs.begin(), dirs.end(), [&](const std::string& d) {
            return d.starts_with(below) && d.size() > below.size() &&
                   d.find("/../") == std::string::npos && !d.ends_with("/..");
        });
        if (dir == dirs.end()) {
            return Err(Error::with_errno(EINVAL, "host cgroup: no directory below " + below));
        }
        cg.dirs_.push_back(*dir);
        cg.origins_.push_back(join_path(h.mount_point, h.own_path));
    }
    return cg;
}

Result<void> HostCgroup::set_memory(const HostCgroupLimits& limits) {
    if (!limits.memory_bytes) {
        return {};
    }
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
        const CgroupHierarchy& h = hierarchies_[i];
        const std::string value = std::to_string(*limits.memory_bytes);
        if (h.unified && ::access((dirs_[i] + "/memory.max").c_str(), F_OK) == 0) {
            RUNVM_TRY(write_cgroup_file(dirs_[i] + "/memory.max", value));
        } else if (h.has("memory")) {
            RUNVM_TRY(write_cgroup_file(dirs_[i] + "/memory.limit_in_bytes", value));
        }
    }
    return {};
}

Result<void> HostCgroup::set_cpu(const HostCgroupLimits& limits) {
    if (!limits.cpu_quota_us) {
        return {};
    }
    const uint64_t period = limits.cpu_period_us.value_or(100000);
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
        const CgroupHierarchy& h = hierarchies_[i];
        if (h.unified && ::access((dirs_[i] + "/cpu.max").c_str(), F_OK) == 0) {
            const std::string quota =
                *limits.cpu_quota_us < 0 ? "max" : std::to_string(*limits.cpu_quota_us);
            RUNVM_TRY(
                write_cgroup_file(dirs_[i] + "/cpu.max", quota + " " + std::to_string(period)));
        } else if (h.has("cpu")) {
            RUNVM_TRY(write_cgroup_file(dirs_[i] + "/cpu.cfs_period_us", std::to_string(period)));
            RUNVM_TRY(write_cgroup_file(dirs_[i] + "/cpu.cfs_quota_us",
                                        std::to_string(*limits.cpu_quota_us)));
        }
    }
    return {};
}

Result<void> HostCgroup::add_process(pid_t pid) {
    for (const std::string& dir : dirs_) {
        RUNVM_TRY(write_cgroup_file(dir + "/cgroup.procs", std::to_string(pid)));
    }
    return {};
}

Result<void> HostCgroup::leave_and_remove(pid_t pid) {
    std::optional<Error> first;
    for (const std::string& origin : origins_) {
        auto r = write_cgroup_file(origin + "/cgroup.procs", std::to_string(pid));
        if (!r.ok() && !first) {
            first = r.error();
        }
    }
    for (const std::string& dir : made_) {
        if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && !first) {
            first = Error::from_errno("rmdir " + dir);
        }
    }
    made_.clear();
    if (first) {
        return Err(std::move(*first));
    }
    return {};
}

namespace {

// A directory read back from a state file: only ever a cgroup.
bool is_cgroup_dir(const std::string& dir) {
    return dir.starts_with(std::string(cgroup_root) + "/") &&
           dir.find("/../") == std::string::npos && !dir.ends_with("/..");
}

} // namespace

Result<void> HostCgroup::adopt_processes_of(const std::vector<std::string>& dirs) {
    for (const std::string& dir : dirs) {
        if (!is_cgroup_dir(dir)) {
            return Err(Error::with_errno(EINVAL, "host cgroup: " + dir + " is not a cgroup"));
        }
        RUNVM_ASSIGN_OR_RETURN(const std::string procs, read_file(dir + "/cgroup.procs"));
        for (const auto word : words(procs)) {
            const auto pid = parse_u64(word);
            if (!pid || *pid == 0) { // "0" would move the writer itself
                continue;
            }
            if (auto moved = add_process(static_cast<pid_t>(*pid));
                !moved && moved.error().code() != ESRCH) {
                return Err(std::move(moved).error().context("adopt the processes of " + dir));
            }
        }
    }
    return {};
}

void remove_cgroup_dirs(const std::vector<std::string>& made) {
    for (const std::string& dir : made) {
        // Read back from a state file: only ever a cgroup (rmdir there removes nothing else).
        if (!is_cgroup_dir(dir)) {
            spdlog::warn("host cgroup: {} is not a cgroup directory; left alone", dir);
            continue;
        }
        // The VM's processes die with their monitor (PR_SET_PDEATHSIG): a moment after it.
        for (int tries = 0; ::rmdir(dir.c_str()) != 0; ++tries) {
            if (errno == ENOENT) {
                break;
            }
            if (errno != EBUSY || tries == 100) {
                spdlog::warn("host cgroup: {}", Error::from_errno("rmdir " + dir).str());
                break;
            }
            ::usleep(20'000);
        }
    }
}

} // namespace runvm::shim
