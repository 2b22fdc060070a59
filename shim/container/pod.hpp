// Pods: which role a container plays in its Kubernetes pod (the CRI annotations), and where
// a pod member's files are in the pod VM's virtio-fs share.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "oci/spec.hpp"
#include "shim/sandbox/host_shares.hpp"

namespace runvm::shim {

inline constexpr char kCriContainerType[] = "io.kubernetes.cri.container-type";
inline constexpr char kCriSandboxId[] = "io.kubernetes.cri.sandbox-id";

enum class PodRole {
    standalone, // no pod: a VM of its own (runvm run, ctr, docker)
    sandbox,    // the pod's sandbox (pause) container: boots the pod VM
    member,     // an app container: runs in its pod's VM
};

struct PodPlacement {
    PodRole role = PodRole::standalone;
    std::string sandbox_id; // member: the pod's sandbox container
};

// CRI's annotations: container-type "sandbox" is the pod VM; "container" with a sandbox id
// (other than its own) is a member. Anything else, or no annotation, is standalone.
PodPlacement pod_placement(const std::string& id,
                           const std::map<std::string, std::string>& annotations);

// Members' files are under this entry of the pod's share; the sandbox's own share entries
// are numbers and "rootfs" (host_shares.hpp), so none can take it.
inline constexpr char kPodMembersShareName[] = "containers";

// <share dir>/containers/<id>: the member's directory on the host side of the share.
std::string member_share_dir(const std::string& share_dir, const std::string& id);
// The member's rootfs as the guest sees it (under kGuestShareDir).
std::string member_guest_rootfs(const std::string& id);

// guest_spec() pointed the member's bind sources at kGuestShareDir/<n>; in a pod they are
// kGuestShareDir/containers/<id>/<n>. Only the sources named by `shares` change.
void relocate_member_sources(oci::Spec& spec, const std::string& id,
                             const std::vector<HostShare>& shares);

// The namespaces CRI points at the pod's sandbox: an app container's ipc (and uts, off the
// node's network; pid with shareProcessNamespace) name /proc/<sandbox pid>/ns/<type>, the
// pause container's on the host. Their types, in the spec's order.
std::vector<std::string> sandbox_namespaces(const oci::Spec& spec, int sandbox_pid);

// In the guest spec, each of those `types` (ipc, uts or pid, listed in the spec) becomes
// the sandbox container's own namespace in the VM: /proc/<its guest pid>/ns/<type>.
Result<void> join_sandbox_namespaces(oci::Spec& guest, const std::vector<std::string>& types,
                                     uint32_t sandbox_guest_pid);

// One entry of a member's share directory: "rootfs" or a bind source's number.
struct MemberMount {
    std::string name;
    bool directory = true;
};

// The add_container request's "mounts" array, checked: names are single path components,
// unique, and there are at most 64.
Result<std::vector<MemberMount>> parse_member_mounts(const nlohmann::json& mounts);

} // namespace runvm::shim
