// Validation of the platform-neutral parts of config.json: version, process, root, mounts,
// hooks, annotations.
#include "oci/validate.hpp"

#include <set>

#include "oci/json_reader.hpp"
#include "oci/names.hpp"
#include "oci/validate_rules.hpp"

namespace runvm::oci {

std::string json_quoted(std::string_view s) {
    return dump_json(Json(std::string(s)));
}

bool is_absolute(const std::string& path) {
    return !path.empty() && path.front() == '/';
}

void check_absolute(Problems& p, const std::string& path, const std::string& value) {
    if (!is_absolute(value)) {
        p.add(path, "must be an absolute path");
    }
}

// The kernel takes at most 340 lines in uid_map/gid_map (Linux 4.15+), each range within
// the 32-bit id space.
void check_id_mappings(Problems& p, const std::string& path,
                       const std::optional<std::vector<IdMapping>>& mappings) {
    if (!mappings) {
        return;
    }
    if (mappings->size() > 340) {
        p.add(path, "at most 340 mappings are allowed");
    }
    constexpr uint64_t kIdSpace = uint64_t{1} << 32;
    for (size_t i = 0; i < mappings->size(); ++i) {
        const IdMapping& m = (*mappings)[i];
        const std::string at = index_path(path, i);
        if (m.size == 0) {
            p.add(at + ".size", "must be greater than zero");
        }
        if (uint64_t{m.container_id} + m.size > kIdSpace) {
            p.add(at, "containerID + size exceeds the 32-bit id space");
        }
        if (uint64_t{m.host_id} + m.size > kIdSpace) {
            p.add(at, "hostID + size exceeds the 32-bit id space");
        }
    }
}

bool has_namespace(const Spec& spec, std::string_view type) {
    if (!spec.linux || !spec.linux->namespaces) {
        return false;
    }
    for (const auto& ns : *spec.linux->namespaces) {
        if (ns.type == type) {
            return true;
        }
    }
    return false;
}

namespace {

// "1.0.2-dev", "1.2.0": a major version of 1 followed by a dot and a digit.
void check_version(Problems& p, const std::string& version) {
    if (version.size() < 3 || version.compare(0, 2, "1.") != 0 || version[2] < '0' ||
        version[2] > '9') {
        p.add("ociVersion", "unsupported version " + json_quoted(version) + ", want 1.x");
    }
}

void check_capability_set(Problems& p, const std::string& path,
                          const std::optional<std::vector<std::string>>& names) {
    if (!names) {
        return;
    }
    for (size_t i = 0; i < names->size(); ++i) {
        if (!capability_number((*names)[i])) {
            p.add(index_path(path, i), "unknown capability " + json_quoted((*names)[i]));
        }
    }
}

void check_capabilities(Problems& p, const Capabilities& caps) {
    check_capability_set(p, "process.capabilities.bounding", caps.bounding);
    check_capability_set(p, "process.capabilities.effective", caps.effective);
    check_capability_set(p, "process.capabilities.inheritable", caps.inheritable);
    check_capability_set(p, "process.capabilities.permitted", caps.permitted);
    check_capability_set(p, "process.capabilities.ambient", caps.ambient);
}

void check_rlimits(Problems& p, const std::vector<Rlimit>& rlimits) {
    std::set<std::string> seen;
    for (size_t i = 0; i < rlimits.size(); ++i) {
        const Rlimit& r = rlimits[i];
        const std::string at = index_path("process.rlimits", i);
        if (!rlimit_resource(r.type)) {
            p.add(at + ".type", "unknown rlimit " + json_quoted(r.type));
        } else if (!seen.insert(r.type).second) {
            p.add(at + ".type", "duplicate rlimit " + json_quoted(r.type));
        }
        if (r.soft > r.hard) {
            p.add(at, "soft limit exceeds hard limit");
        }
    }
}

void check_env(Problems& p, const std::string& path,
               const std::optional<std::vector<std::string>>& env) {
    if (!env) {
        return;
    }
    for (size_t i = 0; i < env->size(); ++i) {
        const std::string& entry = (*env)[i];
        const auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0) {
            p.add(index_path(path, i), "must be KEY=VALUE, got " + json_quoted(entry));
        } else if (entry.find('\0') != std::string::npos) {
            p.add(index_path(path, i), "must not contain a NUL byte");
        }
    }
}

void check_process(Problems& p, const Process& process) {
    if (!process.args || process.args->empty()) {
        p.add("process.args", "must be a non-empty array");
    } else if (process.args->front().empty()) {
        p.add("process.args[0]", "must not be empty");
    }
    check_absolute(p, "process.cwd", process.cwd);
    check_env(p, "process.env", process.env);
    if (process.user.umask && *process.user.umask > 0777) {
        p.add("process.user.umask", "must be at most 0777");
    }
    if (process.capabilities) {
        check_capabilities(p, *process.capabilities);
    }
    if (process.rlimits) {
        check_rlimits(p, *process.rlimits);
    }
    if (process.oom_score_adj &&
        (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000)) {
        p.add("process.oomScoreAdj", "must be between -1000 and 1000");
    }
}

void check_mounts(Problems& p, const std::vector<Mount>& mounts) {
    for (size_t i = 0; i < mounts.size(); ++i) {
        const std::string at = index_path("mounts", i);
        check_absolute(p, at + ".destination", mounts[i].destination);
        check_id_mappings(p, at + ".uidMappings", mounts[i].uid_mappings);
        check_id_mappings(p, at + ".gidMappings", mounts[i].gid_mappings);
    }
}

void check_hook_list(Problems& p, const std::string& path,
                     const std::optional<std::vector<Hook>>& hooks) {
    if (!hooks) {
        return;
    }
    for (size_t i = 0; i < hooks->size(); ++i) {
        const Hook& hook = (*hooks)[i];
        const std::string at = index_path(path, i);
        check_absolute(p, at + ".path", hook.path);
        check_env(p, at + ".env", hook.env);
        if (hook.timeout && *hook.timeout <= 0) {
            p.add(at + ".timeout", "must be greater than zero");
        }
    }
}

void check_hooks(Problems& p, const Hooks& hooks) {
    check_hook_list(p, "hooks.prestart", hooks.prestart);
    check_hook_list(p, "hooks.createRuntime", hooks.create_runtime);
    check_hook_list(p, "hooks.createContainer", hooks.create_container);
    check_hook_list(p, "hooks.startContainer", hooks.start_container);
    check_hook_list(p, "hooks.poststart", hooks.poststart);
    check_hook_list(p, "hooks.poststop", hooks.poststop);
}

} // namespace

std::vector<std::string> find_problems(const Spec& spec) {
    Problems p;
    check_version(p, spec.oci_version);
    if (!spec.process) {
        p.add("process", "is required");
    } else {
        check_process(p, *spec.process);
    }
    if (!spec.root) {
        p.add("root", "is required");
    } else if (spec.root->path.empty()) {
        p.add("root.path", "must not be empty");
    }
    if (spec.hostname && !spec.hostname->empty() && !has_namespace(spec, "uts")) {
        p.add("hostname", "requires a uts namespace in linux.namespaces");
    }
    if (spec.domainname && !spec.domainname->empty() && !has_namespace(spec, "uts")) {
        p.add("domainname", "requires a uts namespace in linux.namespaces");
    }
    if (spec.mounts) {
        check_mounts(p, *spec.mounts);
    }
    if (spec.hooks) {
        check_hooks(p, *spec.hooks);
    }
    if (spec.annotations && spec.annotations->count("") != 0) {
        p.add("annotations", "keys must not be empty");
    }
    check_linux(p, spec);
    return std::move(p.list());
}

Result<void> validate(const Spec& spec) {
    const auto problems = find_problems(spec);
    if (problems.empty()) {
        return Ok();
    }
    std::string message;
    for (const auto& problem : problems) {
        if (!message.empty()) {
            message += "; ";
        }
        message += problem;
    }
    return Err(Error::msg(std::move(message)));
}

} // namespace runvm::oci
