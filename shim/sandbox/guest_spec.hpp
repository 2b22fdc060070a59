// The container's config.json as the guest agent must see it: what names host objects
// (namespace files, host directories) has no meaning inside the VM and is translated here.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::shim {

// Rules (docs/cli.md, "What the guest sees"):
// - a namespace given by path (a host namespace to join, e.g. Docker's netns) becomes a new
//   namespace of that type in the guest: the VM is the isolation boundary;
// - a bind mount of a host file (Docker's and podman's /etc/hosts, hostname, resolv.conf)
//   is left out with a warning until virtio-fs can carry it;
// - a bind mount of a host directory at /dev/shm becomes a tmpfs (what Docker's is);
// - any other bind mount of a host directory is an error naming it (it would hide data).
// Sources inside the bundle's rootfs are in the rootfs image and stay as they are.
// `notes` receives one line per change, for the log.
Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& rootfs_dir,
                             std::vector<std::string>* notes);

} // namespace runvm::shim
