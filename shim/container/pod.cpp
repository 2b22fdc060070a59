// Pod roles from the CRI annotations and the layout of members in the pod's share.
#include "shim/container/pod.hpp"

#include <cerrno>
#include <set>

namespace runvm::shim {

namespace {

bool valid_component(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
           name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

} // namespace

std::vector<std::string> sandbox_namespaces(const oci::Spec& spec, int sandbox_pid) {
    std::vector<std::string> types;
    if (!spec.linux || !spec.linux->namespaces || sandbox_pid <= 0) {
        return types;
    }
    const std::string prefix = "/proc/" + std::to_string(sandbox_pid) + "/ns/";
    for (const auto& ns : *spec.linux->namespaces) {
        if ((ns.type == "ipc" || ns.type == "uts" || ns.type == "pid") && ns.path &&
            *ns.path == prefix + ns.type) {
            types.push_back(ns.type);
        }
    }
    return types;
}

Result<void> join_sandbox_namespaces(oci::Spec& guest, const std::vector<std::string>& types,
                                     uint32_t sandbox_guest_pid) {
    for (const auto& type : types) {
        if (type != "ipc" && type != "uts" && type != "pid") {
            return Err(Error::with_errno(EINVAL, "pod_namespaces: \"" + type +
                                                     "\" is not ipc, uts or pid"));
        }
        bool found = false;
        if (guest.linux && guest.linux->namespaces) {
            for (auto& ns : *guest.linux->namespaces) {
                if (ns.type == type) {
                    ns.path = "/proc/" + std::to_string(sandbox_guest_pid) + "/ns/" + type;
                    found = true;
                }
            }
        }
        if (!found) {
            return Err(Error::with_errno(EINVAL, "pod_namespaces: the spec has no " + type +
                                                     " namespace to join"));
        }
    }
    return Ok();
}

PodPlacement pod_placement(const std::string& id,
                           const std::map<std::string, std::string>& annotations) {
    PodPlacement p;
    const auto type = annotations.find(kCriContainerType);
    if (type == annotations.end()) {
        return p;
    }
    if (type->second == "sandbox") {
        p.role = PodRole::sandbox;
        return p;
    }
    const auto sandbox = annotations.find(kCriSandboxId);
    if (type->second == "container" && sandbox != annotations.end() && !sandbox->second.empty() &&
        sandbox->second != id) {
        p.role = PodRole::member;
        p.sandbox_id = sandbox->second;
    }
    return p;
}

std::string member_share_dir(const std::string& share_dir, const std::string& id) {
    return share_dir + "/" + kPodMembersShareName + "/" + id;
}

std::string member_guest_rootfs(const std::string& id) {
    return std::string(kGuestShareDir) + "/" + kPodMembersShareName + "/" + id + "/" +
           kRootfsShareName;
}

void relocate_member_sources(oci::Spec& spec, const std::string& id,
                             const std::vector<HostShare>& shares) {
    if (!spec.mounts) {
        return;
    }
    std::set<std::string> old_sources;
    for (const auto& s : shares) {
        old_sources.insert(std::string(kGuestShareDir) + "/" + s.name);
    }
    const std::string prefix =
        std::string(kGuestShareDir) + "/" + kPodMembersShareName + "/" + id + "/";
    for (auto& m : *spec.mounts) {
        if (m.source && old_sources.count(*m.source) != 0) {
            m.source = prefix + m.source->substr(std::string(kGuestShareDir).size() + 1);
        }
    }
}

Result<std::vector<MemberMount>> parse_member_mounts(const nlohmann::json& mounts) {
    if (!mounts.is_array() || mounts.size() > 64) {
        return Err(Error::with_errno(EINVAL, "add_container: mounts: not an array of at most 64"));
    }
    std::vector<MemberMount> out;
    std::set<std::string> seen;
    for (const auto& m : mounts) {
        if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) {
            return Err(Error::with_errno(EINVAL, "add_container: mounts: entry without a name"));
        }
        MemberMount mm;
        mm.name = m["name"].get<std::string>();
        mm.directory = m.value("directory", true);
        if (!valid_component(mm.name) || !seen.insert(mm.name).second) {
            return Err(Error::with_errno(EINVAL, "add_container: mount name '" + mm.name +
                                                     "': not one path component, or repeated"));
        }
        out.push_back(std::move(mm));
    }
    return out;
}

} // namespace runvm::shim
