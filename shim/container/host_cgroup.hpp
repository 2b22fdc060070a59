// The container's cgroup on the host (the spec's linux.cgroupsPath), which the monitor joins
// before its VM boots, so the broker and the hypervisor it starts inherit it and the guest's
// RAM is charged there as the hypervisor first touches it. cgroup v1 (each controller's
// hierarchy, plus the hybrid layout's unified one), v2, and `--systemd-cgroup`'s
// slice:prefix:name form, mapped to the cgroupfs path systemd would give the scope.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"

namespace runvm::shim {

// One mounted cgroup hierarchy: v2's, or one v1 hierarchy and its controllers.
struct CgroupHierarchy {
    std::string mount_point;              // /sys/fs/cgroup/memory
    std::vector<std::string> controllers; // {"memory"}; {"name=systemd"}; empty for v2
    bool unified = false;                 // cgroup2
    std::string own_path;                 // this process's cgroup in it (/proc/self/cgroup)

    bool has(std::string_view controller) const;
};

struct CgroupLayout {
    // True when /sys/fs/cgroup itself is cgroup2: one hierarchy with every controller.
    bool v2 = false;
    std::vector<CgroupHierarchy> hierarchies;
};

// The layout from /proc/self/mountinfo and /proc/self/cgroup texts (parsed apart so tests
// feed both layouts).
CgroupLayout parse_cgroup_layout(std::string_view mountinfo, std::string_view self_cgroup);
Result<CgroupLayout> read_cgroup_layout();

// Where the container's cgroup sits, relative to a hierarchy's root: runc's rules. Absolute
// paths are taken as they are, relative ones under this process's own cgroup, an empty one
// is the container id under it; with systemd, "slice:prefix:name" becomes
// /<slice path>/<prefix>-<name>.scope (an empty path is ":runvm:<id>", a slice is
// system.slice by default and "a-b.slice" nests as /a.slice/a-b.slice). A path that climbs
// out with ".." is refused: the spec is not trusted to name the host's other cgroups.
struct CgroupPlacement {
    std::string path; // "/docker/abc" or "docker/abc" (relative: under own_path)
    bool relative = false;
};
Result<CgroupPlacement> resolve_cgroups_path(const std::optional<std::string>& cgroups_path,
                                             bool systemd, const std::string& container_id);

// containerd's CRI writes cgroupsPath as slice:prefix:name exactly when its runc options say
// SystemdCgroup: runvm's shim passes --systemd-cgroup when it sees that form (two colons, no
// '/'), as containerd's runc shim does from the options.
bool is_systemd_cgroups_path(std::string_view cgroups_path);

// What the host cgroup is limited to. Unset fields leave the host's default (unlimited).
struct HostCgroupLimits {
    std::optional<uint64_t> memory_bytes;
    std::optional<int64_t> cpu_quota_us; // with cpu_period_us
    std::optional<uint64_t> cpu_period_us;
};

// The directories of one container's host cgroup, one per hierarchy. create() remembers
// which of them it made; leave_and_remove() takes away only those (never a parent: another
// container may be creating its own under it).
class HostCgroup {
public:
    static Result<HostCgroup> create(const CgroupLayout& layout, const CgroupPlacement& placement);
    // The cgroup another process made, from its dirs() as it passed them on (a pooled VM's
    // container, member_process.cpp), for its limits: one directory per hierarchy of
    // `layout`, below its mount point; this object made none of them.
    static Result<HostCgroup> existing(const CgroupLayout& layout,
                                       const std::vector<std::string>& dirs);

    Result<void> set_memory(const HostCgroupLimits& limits);
    Result<void> set_cpu(const HostCgroupLimits& limits);
    // Moves `pid` (the caller, usually) into the cgroup in every hierarchy.
    Result<void> add_process(pid_t pid);
    // Moves every process of another container's cgroup (its dirs(), as recorded) into this
    // one: a pooled VM's monitor, jail, hypervisor and broker, when a container takes it.
    Result<void> adopt_processes_of(const std::vector<std::string>& dirs);
    // Moves `pid` back to the cgroup it was in when the layout was read, then removes the
    // directories create() made. Call once the VM's processes are gone: a directory still
    // in use is left, and named in the error.
    Result<void> leave_and_remove(pid_t pid);

    const std::vector<std::string>& dirs() const { return dirs_; }
    const std::vector<std::string>& made() const { return made_; }

private:
    std::vector<CgroupHierarchy> hierarchies_;
    std::vector<std::string> dirs_;    // one per hierarchy, same order
    std::vector<std::string> made_;    // the subset of dirs_ that create() made
    std::vector<std::string> origins_; // per hierarchy: the cgroup the caller was in
};

// Removes directories a HostCgroup made (its made()), after its monitor died: gone ones are
// fine, busy ones are logged.
void remove_cgroup_dirs(const std::vector<std::string>& made);

} // namespace runvm::shim
