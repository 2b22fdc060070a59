// A container's cgroup v2 directory: resources, membership, freeze, statistics, removal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

struct CgroupStats {
    uint64_t cpu_usage_usec = 0, cpu_user_usec = 0, cpu_system_usec = 0;
    uint64_t memory_current = 0, memory_limit = 0; // limit 0: "max"
    uint64_t pids_current = 0;
    uint64_t io_read_bytes = 0, io_write_bytes = 0;
};

// The cgroup v2 files a Resources object asks for: ("memory.max", "536870912"), ...
// Errors name the field (linux.resources.cpu.quota, ...).
Result<std::vector<std::pair<std::string, std::string>>>
cgroup_v2_settings(const oci::Resources& resources);

class Cgroup {
public:
    // Where cgroup2 is mounted (/sys/fs/cgroup in the guest), nullopt when nowhere (a v1 host).
    static std::optional<std::string> find_v2_mount();

    // mkdir -p <mount>/<relative> and enables the controllers the parents offer.
    static Result<Cgroup> create(const std::string& mount, const std::string& relative);

    const std::string& path() const { return path_; }
    Result<void> apply(const oci::Resources& resources) const;
    Result<void> add_process(pid_t pid) const;
    Result<void> freeze(bool frozen) const;
    Result<std::vector<pid_t>> processes() const;
    Result<CgroupStats> stats() const;
    // rmdir; the cgroup must be empty.
    Result<void> remove() const;

private:
    explicit Cgroup(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

} // namespace runvm::agent
