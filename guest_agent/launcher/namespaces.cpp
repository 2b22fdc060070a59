// Namespace plan from the spec; setns joins; id map files.
#include "guest_agent/launcher/namespaces.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sched.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

namespace {
Result<int> flag_for(const std::string& type) {
    static const std::pair<const char*, int> types[] = {
        {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
        {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
        {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
    };
    for (const auto& [n, f] : types) {
        if (type == n) {
            return f;
        }
    }
    return Err(Error::with_errno(EINVAL, "unknown namespace \"" + type + "\""));
}

std::string map_text(const std::vector<oci::IdMapping>& maps) {
    std::string s;
    for (const auto& m : maps) {
        s += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
             std::to_string(m.size) + "\n";
    }
    return s;
}

Result<void> write_proc(pid_t pid, const char* file, const std::string& text) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    return write_all(fd.get(), text.data(), text.size(), path.c_str());
}
} // namespace

bool NamespacePlan::has(int flag) const {
    if ((new_flags & flag) != 0) {
        return true;
    }
    for (const auto& j : joins) {
        if (j.flag == flag) {
            return true;
        }
    }
    return false;
}

Result<NamespacePlan> plan_namespaces(const oci::Spec& spec) {
    NamespacePlan plan;
    if (!spec.linux || !spec.linux->namespaces) {
        return plan;
    }
    const auto& list = *spec.linux->namespaces;
    int seen = 0;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string field = "linux.namespaces[" + std::to_string(i) + "]";
        auto flag = flag_for(list[i].type);
        if (!flag.ok()) {
            return Err(std::move(flag).error().context(field + ".type"));
        }
        if ((seen & *flag) != 0) {
            return Err(
                Error::with_errno(EINVAL, field + ".type: duplicate \"" + list[i].type + "\""));
        }
        seen |= *flag;
        if (list[i].path && !list[i].path->empty()) {
            NamespacePlan::Join j{*flag, *list[i].path};
            if (*flag == CLONE_NEWUSER) {
                plan.joins.insert(plan.joins.begin(), j);
            } else {
                plan.joins.push_back(j);
            }
        } else {
            plan.new_flags |= *flag;
        }
    }
    return plan;
}

Result<void> join_namespaces(const NamespacePlan& plan, int mask) {
    for (const auto& j : plan.joins) {
        if ((j.flag & mask) == 0) {
            continue;
        }
        UniqueFd fd(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            return Err(Error::from_errno("open namespace " + j.path));
        }
        if (::setns(fd.get(), j.flag) < 0) {
            return Err(Error::from_errno("setns " + j.path));
        }
    }
    return Ok();
}

Result<void> write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids) {
    if (!uids.empty()) {
        RUNVM_TRY(write_proc(pid, "uid_map", map_text(uids)));
    }
    if (!gids.empty()) {
        RUNVM_TRY(write_proc(pid, "gid_map", map_text(gids)));
    }
    return Ok();
}

} // namespace runvm::agent
