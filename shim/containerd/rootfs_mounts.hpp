// The rootfs containerd hands a task (CreateTaskRequest.rootfs: an overlay or bind mount
// from the snapshotter) mounted onto <bundle>/rootfs, as containerd's runc shim does; the
// sandbox then builds the guest's disk image from that directory.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::containerd {

struct MountSpec {
    std::string type;
    std::string source;
    std::vector<std::string> options;
};

// mount(2) flags and the data string for `options` (runc/containerd's mount option names:
// ro, rw, bind, rbind, nosuid, ...; anything else goes to the filesystem as data).
struct ParsedMountOptions {
    unsigned long flags = 0;
    std::string data;
    bool propagation_private = false;
};
ParsedMountOptions parse_mount_options(const std::vector<std::string>& options);

// Mounts each of `mounts` onto `target`, in order; on failure unmounts what it mounted.
Result<void> mount_rootfs(const std::vector<MountSpec>& mounts, const std::string& target);

// Unmounts everything stacked on `target` (lazily, repeated until EINVAL: nothing left).
Result<void> unmount_all(const std::string& target);

} // namespace runvm::containerd
