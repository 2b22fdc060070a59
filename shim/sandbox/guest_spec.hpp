// The container's config.json as the guest agent must see it: what names host objects
// (namespace files, host directories) has no meaning inside the VM and is translated here.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"
#include "shim/sandbox/host_shares.hpp"

namespace runvm::shim {

// The guest's own network namespace, as the agent (PID 1) sees it.
inline constexpr const char* kGuestNetworkNamespace = "/proc/1/ns/net";

// Rules (docs/cli.md, "What the guest sees"):
// - a spec without a network namespace (the host's network) is refused:
//   require_network_namespace() (sandbox_network.hpp);
// - the network namespace, with a path or without, is the VM's: kGuestNetworkNamespace;
// - any other namespace given by path (a host namespace to join, e.g. Docker's netns) becomes a new
//   namespace of that type in the guest: the VM is the isolation boundary;
// - a bind mount of a host directory at /dev/shm becomes a tmpfs (what Docker's is);
// - with `shares`: any other bind mount of a host file or directory (Docker's /etc/hosts,
//   hostname, resolv.conf, volumes) is appended to `shares` as "<n>" and its source becomes
//   kGuestShareDir/<n>, the share the agent mounts (virtio-fs); its options (ro, rbind)
//   stay and also say how the host side is bound;
// - without (no virtio-fs: not root): a host file is left out with a note, and a host
//   directory is an error naming it (leaving it out would hide data).
// Sources inside the bundle's rootfs are in the rootfs image and stay as they are.
// `notes` receives one line per change, for the log.
Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& rootfs_dir,
                             std::vector<std::string>* notes,
                             std::vector<HostShare>* shares = nullptr);

} // namespace runvm::shim
