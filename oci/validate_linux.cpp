// Validation of config.json's linux section, resources aside (oci/validate_resources.cpp).
#include <set>

#include "oci/json_reader.hpp"
#include "oci/names.hpp"
#include "oci/validate_rules.hpp"

namespace runvm::oci {
namespace {

void check_namespaces(Problems& p, const std::vector<Namespace>& namespaces) {
    std::set<std::string> seen;
    for (size_t i = 0; i < namespaces.size(); ++i) {
        const Namespace& ns = namespaces[i];
        const std::string at = index_path("linux.namespaces", i);
        if (!namespace_clone_flag(ns.type)) {
            p.add(at + ".type", "unknown namespace type " + json_quoted(ns.type));
        } else if (!seen.insert(ns.type).second) {
            p.add(at + ".type", "duplicate namespace " + json_quoted(ns.type));
        }
        if (ns.path) {
            check_absolute(p, at + ".path", *ns.path);
        }
    }
}

const Namespace* find_namespace(const Linux& linux_section, std::string_view type) {
    if (!linux_section.namespaces) {
        return nullptr;
    }
    for (const auto& ns : *linux_section.namespaces) {
        if (ns.type == type) {
            return &ns;
        }
    }
    return nullptr;
}

// Mappings belong to a new user namespace; a new one without them leaves every id unmapped.
void check_user_mappings(Problems& p, const Linux& linux_section) {
    check_id_mappings(p, "linux.uidMappings", linux_section.uid_mappings);
    check_id_mappings(p, "linux.gidMappings", linux_section.gid_mappings);
    const Namespace* user = find_namespace(linux_section, "user");
    const bool has_uid = linux_section.uid_mappings && !linux_section.uid_mappings->empty();
    const bool has_gid = linux_section.gid_mappings && !linux_section.gid_mappings->empty();
    if (user == nullptr) {
        if (has_uid) {
            p.add("linux.uidMappings", "requires a user namespace in linux.namespaces");
        }
        if (has_gid) {
            p.add("linux.gidMappings", "requires a user namespace in linux.namespaces");
        }
        return;
    }
    if (user->path) {
        return;
    }
    if (!has_uid) {
        p.add("linux.uidMappings", "is required with a new user namespace");
    }
    if (!has_gid) {
        p.add("linux.gidMappings", "is required with a new user namespace");
    }
}

void check_devices(Problems& p, const std::vector<Device>& devices) {
    for (size_t i = 0; i < devices.size(); ++i) {
        const Device& d = devices[i];
        const std::string at = index_path("linux.devices", i);
        if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
            p.add(at + ".type",
                  "unknown device type " + json_quoted(d.type) + ", want c, b, u or p");
        } else if (d.type != "p") {
            if (!d.major) {
                p.add(at + ".major", "is required for type " + json_quoted(d.type));
            }
            if (!d.minor) {
                p.add(at + ".minor", "is required for type " + json_quoted(d.type));
            }
        }
        check_absolute(p, at + ".path", d.path);
        if (d.file_mode && *d.file_mode > 07777) {
            p.add(at + ".fileMode", "must be at most 07777");
        }
    }
}

bool is_ipc_sysctl(const std::string& key) {
    static const std::set<std::string> kIpc = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    };
    return kIpc.count(key) != 0 || key.rfind("fs.mqueue.", 0) == 0;
}

// The guest kernel is the container's own, so unlike runc any sysctl is allowed; those that a
// namespace scopes still need that namespace, or they would leak to the agent's view.
void check_sysctl(Problems& p, const Spec& spec, const std::map<std::string, std::string>& sysctl) {
    for (const auto& [key, value] : sysctl) {
        const std::string at = map_entry_path("linux.sysctl", key);
        if (key.empty() || key.front() == '.' || key.back() == '.' ||
            key.find_first_of("/\0", 0, 2) != std::string::npos ||
            key.find("..") != std::string::npos) {
            p.add(at, "invalid sysctl name");
        } else if (key.rfind("net.", 0) == 0 && !has_namespace(spec, "network")) {
            p.add(at, "requires a network namespace in linux.namespaces");
        } else if (is_ipc_sysctl(key) && !has_namespace(spec, "ipc")) {
            p.add(at, "requires an ipc namespace in linux.namespaces");
        } else if ((key == "kernel.hostname" || key == "kernel.domainname") &&
                   !has_namespace(spec, "uts")) {
            p.add(at, "requires a uts namespace in linux.namespaces");
        }
    }
}

void check_name_list(Problems& p, const std::string& path,
                     const std::optional<std::vector<std::string>>& names,
                     bool (*known)(std::string_view), const char* what) {
    if (!names) {
        return;
    }
    for (size_t i = 0; i < names->size(); ++i) {
        if (!known((*names)[i])) {
            p.add(index_path(path, i),
                  std::string("unknown ") + what + " " + json_quoted((*names)[i]));
        }
    }
}

void check_syscall(Problems& p, const std::string& at, const SeccompSyscall& rule) {
    if (rule.names.empty()) {
        p.add(at + ".names", "must be a non-empty array");
    }
    for (size_t n = 0; n < rule.names.size(); ++n) {
        if (rule.names[n].empty()) {
            p.add(index_path(at + ".names", n), "must not be empty");
        }
    }
    if (!is_seccomp_action(rule.action)) {
        p.add(at + ".action", "unknown action " + json_quoted(rule.action));
    } else if (rule.errno_ret && rule.action != "SCMP_ACT_ERRNO" &&
               rule.action != "SCMP_ACT_TRACE") {
        p.add(at + ".errnoRet", "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
    if (!rule.args) {
        return;
    }
    for (size_t a = 0; a < rule.args->size(); ++a) {
        const SeccompArg& arg = (*rule.args)[a];
        const std::string arg_at = index_path(at + ".args", a);
        if (arg.index >= 6) {
            p.add(arg_at + ".index", "must be less than 6");
        }
        if (!is_seccomp_operator(arg.op)) {
            p.add(arg_at + ".op", "unknown operator " + json_quoted(arg.op));
        }
    }
}

void check_seccomp(Problems& p, const Seccomp& seccomp) {
    if (!is_seccomp_action(seccomp.default_action)) {
        p.add("linux.seccomp.defaultAction",
              "unknown action " + json_quoted(seccomp.default_action));
    } else if (seccomp.default_action == "SCMP_ACT_NOTIFY") {
        p.add("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    }
    check_name_list(p, "linux.seccomp.architectures", seccomp.architectures,
                    is_seccomp_architecture, "architecture");
    check_name_list(p, "linux.seccomp.flags", seccomp.flags, is_seccomp_flag, "flag");
    bool notifies = false;
    if (seccomp.syscalls) {
        for (size_t i = 0; i < seccomp.syscalls->size(); ++i) {
            const SeccompSyscall& rule = (*seccomp.syscalls)[i];
            check_syscall(p, index_path("linux.seccomp.syscalls", i), rule);
            notifies = notifies || rule.action == "SCMP_ACT_NOTIFY";
        }
    }
    if (notifies && (!seccomp.listener_path || seccomp.listener_path->empty())) {
        p.add("linux.seccomp.listenerPath", "is required when an action is SCMP_ACT_NOTIFY");
    }
    if (seccomp.listener_path && !seccomp.listener_path->empty()) {
        check_absolute(p, "linux.seccomp.listenerPath", *seccomp.listener_path);
    }
}

void check_path_list(Problems& p, const std::string& path,
                     const std::optional<std::vector<std::string>>& paths) {
    if (!paths) {
        return;
    }
    for (size_t i = 0; i < paths->size(); ++i) {
        check_absolute(p, index_path(path, i), (*paths)[i]);
    }
}

} // namespace

void check_linux(Problems& p, const Spec& spec) {
    if (!spec.linux) {
        return;
    }
    const Linux& l = *spec.linux;
    if (l.namespaces) {
        check_namespaces(p, *l.namespaces);
    }
    check_user_mappings(p, l);
    if (l.devices) {
        check_devices(p, *l.devices);
    }
    if (l.resources) {
        check_resources(p, *l.resources);
    }
    if (l.sysctl) {
        check_sysctl(p, spec, *l.sysctl);
    }
    if (l.seccomp) {
        check_seccomp(p, *l.seccomp);
    }
    if (l.rootfs_propagation && !l.rootfs_propagation->empty() &&
        !is_rootfs_propagation(*l.rootfs_propagation)) {
        p.add("linux.rootfsPropagation",
              "unknown propagation " + json_quoted(*l.rootfs_propagation));
    }
    check_path_list(p, "linux.maskedPaths", l.masked_paths);
    check_path_list(p, "linux.readonlyPaths", l.readonly_paths);
    if (l.personality && l.personality->domain != "LINUX" && l.personality->domain != "LINUX32") {
        p.add("linux.personality.domain",
              "unknown domain " + json_quoted(l.personality->domain) + ", want LINUX or LINUX32");
    }
}

} // namespace runvm::oci
