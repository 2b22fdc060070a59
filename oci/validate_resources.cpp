// Validation of linux.resources: the cgroup limits the agent writes inside the guest.
#include <set>

#include "oci/json_reader.hpp"
#include "oci/validate_rules.hpp"

namespace runvm::oci {
namespace {

const std::string kAt = "linux.resources";

void check_device_rules(Problems& p, const std::vector<DeviceCgroupRule>& rules) {
    for (size_t i = 0; i < rules.size(); ++i) {
        const DeviceCgroupRule& r = rules[i];
        const std::string at = index_path(kAt + ".devices", i);
        if (r.type && *r.type != "a" && *r.type != "c" && *r.type != "b") {
            p.add(at + ".type", "unknown device type " + json_quoted(*r.type) + ", want a, c or b");
        }
        if (r.access) {
            std::set<char> seen;
            for (const char c : *r.access) {
                if ((c != 'r' && c != 'w' && c != 'm') || !seen.insert(c).second) {
                    p.add(at + ".access",
                          "must be a subset of \"rwm\", got " + json_quoted(*r.access));
                    break;
                }
            }
        }
    }
}

// -1 means unlimited; anything below is meaningless to the kernel.
void check_limit(Problems& p, const std::string& path, const std::optional<int64_t>& value) {
    if (value && *value < -1) {
        p.add(path, "must be -1 (unlimited) or more");
    }
}

void check_memory(Problems& p, const MemoryResources& m) {
    const std::string at = kAt + ".memory";
    check_limit(p, at + ".limit", m.limit);
    check_limit(p, at + ".reservation", m.reservation);
    check_limit(p, at + ".swap", m.swap);
    check_limit(p, at + ".kernel", m.kernel);
    check_limit(p, at + ".kernelTCP", m.kernel_tcp);
    if (m.swappiness && *m.swappiness > 100) {
        p.add(at + ".swappiness", "must be between 0 and 100");
    }
    // swap is memory+swap, as in cgroup v1's memory.memsw.limit_in_bytes.
    if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
        p.add(at + ".swap", "must be at least linux.resources.memory.limit");
    }
}

// A cpuset list as the kernel writes it: "0-3,5,7-8".
bool is_cpu_list(const std::string& s) {
    if (s.empty()) {
        return true;
    }
    size_t i = 0;
    while (i <= s.size()) {
        auto number = [&](uint64_t& out) {
            const size_t start = i;
            out = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 9) {
                out = out * 10 + static_cast<uint64_t>(s[i] - '0');
                ++i;
            }
            return i > start;
        };
        uint64_t first = 0;
        uint64_t last = 0;
        if (!number(first)) {
            return false;
        }
        if (i < s.size() && s[i] == '-') {
            ++i;
            if (!number(last) || last < first) {
                return false;
            }
        }
        if (i == s.size()) {
            return true;
        }
        if (s[i] != ',') {
            return false;
        }
        ++i;
    }
    return false;
}

void check_cpu(Problems& p, const CpuResources& c) {
    const std::string at = kAt + ".cpu";
    if (c.cpus && !is_cpu_list(*c.cpus)) {
        p.add(at + ".cpus", "invalid cpu list " + json_quoted(*c.cpus));
    }
    if (c.mems && !is_cpu_list(*c.mems)) {
        p.add(at + ".mems", "invalid memory node list " + json_quoted(*c.mems));
    }
    // CFS accepts periods from 1 ms to 1 s.
    if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000)) {
        p.add(at + ".period", "must be between 1000 and 1000000 microseconds");
    }
    if (c.quota && *c.quota < -1) {
        p.add(at + ".quota", "must be -1 (unlimited) or more");
    }
    if (c.idle && *c.idle != 0 && *c.idle != 1) {
        p.add(at + ".idle", "must be 0 or 1");
    }
}

// blkio weights: 10..1000 (cgroup v1), 0 meaning unset.
void check_weight(Problems& p, const std::string& path, const std::optional<uint16_t>& w) {
    if (w && *w != 0 && (*w < 10 || *w > 1000)) {
        p.add(path, "must be between 10 and 1000");
    }
}

void check_block_io(Problems& p, const BlockIoResources& b) {
    const std::string at = kAt + ".blockIO";
    check_weight(p, at + ".weight", b.weight);
    check_weight(p, at + ".leafWeight", b.leaf_weight);
    if (b.weight_device) {
        for (size_t i = 0; i < b.weight_device->size(); ++i) {
            const std::string dev = index_path(at + ".weightDevice", i);
            check_weight(p, dev + ".weight", (*b.weight_device)[i].weight);
            check_weight(p, dev + ".leafWeight", (*b.weight_device)[i].leaf_weight);
        }
    }
}

// "2MB", "1GB": the size part of the hugetlb cgroup file names.
bool is_hugepage_size(const std::string& s) {
    if (s.size() < 3) {
        return false;
    }
    const std::string unit = s.substr(s.size() - 2);
    if (unit != "KB" && unit != "MB" && unit != "GB") {
        return false;
    }
    for (size_t i = 0; i + 2 < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

void check_hugepages(Problems& p, const std::vector<HugepageLimit>& limits) {
    std::set<std::string> seen;
    for (size_t i = 0; i < limits.size(); ++i) {
        const std::string at = index_path(kAt + ".hugepageLimits", i) + ".pageSize";
        if (!is_hugepage_size(limits[i].page_size)) {
            p.add(at,
                  "invalid page size " + json_quoted(limits[i].page_size) + ", want e.g. \"2MB\"");
        } else if (!seen.insert(limits[i].page_size).second) {
            p.add(at, "duplicate page size " + json_quoted(limits[i].page_size));
        }
    }
}

void check_unified(Problems& p, const std::map<std::string, std::string>& unified) {
    for (const auto& [file, value] : unified) {
        if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
            file.find('\0') != std::string::npos) {
            p.add(map_entry_path(kAt + ".unified", file),
                  "must name a file in the container's cgroup directory");
        }
    }
}

} // namespace

void check_resources(Problems& p, const Resources& r) {
    if (r.devices) {
        check_device_rules(p, *r.devices);
    }
    if (r.memory) {
        check_memory(p, *r.memory);
    }
    if (r.cpu) {
        check_cpu(p, *r.cpu);
    }
    if (r.pids && r.pids->limit < -1) {
        p.add(kAt + ".pids.limit", "must be -1 (unlimited) or more");
    }
    if (r.block_io) {
        check_block_io(p, *r.block_io);
    }
    if (r.hugepage_limits) {
        check_hugepages(p, *r.hugepage_limits);
    }
    if (r.unified) {
        check_unified(p, *r.unified);
    }
}

} // namespace runvm::oci
