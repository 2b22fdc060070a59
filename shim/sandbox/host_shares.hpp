// Host files and directories a container bind-mounts, gathered under one directory that the
// broker serves to the guest as the virtio-fs share `runvm` (docs/virtiofs.md, Runtime).
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace runvm::shim {

// The virtio-fs tag of the share and where the agent mounts it in the guest.
inline constexpr char kShareTag[] = "runvm";
inline constexpr char kGuestShareDir[] = "/run/runvm/shared";

// rootfs: virtiofs: the bundle's rootfs in the same share under this name (the bind
// sources are numbered, so none can take it), the container's root in the guest.
inline constexpr char kRootfsShareName[] = "rootfs";
inline constexpr char kGuestRootfsDir[] = "/run/runvm/shared/rootfs";

// One bind-mount source of the spec, seen in the share as `name`.
struct HostShare {
    std::string source; // host path (file or directory)
    std::string name;   // one path component under the share directory
    bool directory = false;
    bool readonly = false;
    bool recursive = false; // rbind: submounts of the source come along
};

// The bundle's rootfs as a share: all of it (rbind: a rootfs that is itself a stack of
// mounts comes whole), writable also for root.readonly: runc makes missing mount points in
// the bundle's rootfs and only then makes the container's "/" read-only; the guest's
// launcher does the same (a read-only host file system still fails the mkdir, as in runc).
HostShare rootfs_share(const std::string& rootfs_dir);

// The share directory on the host: one bind mount per HostShare (nosuid, nodev, read-only
// where the share says so) under a private self bind mount of the directory, so nothing
// propagates to other mount namespaces. Dropping it unmounts everything and removes the
// directory.
class HostShareDir {
public:
    // Clears what a crashed predecessor left at `dir` first (release_host_shares).
    static Result<HostShareDir> create(const std::string& dir,
                                       const std::vector<HostShare>& shares);

    HostShareDir() = default;
    ~HostShareDir() { release(); }
    HostShareDir(HostShareDir&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
    HostShareDir& operator=(HostShareDir&& o) noexcept;
    HostShareDir(const HostShareDir&) = delete;
    HostShareDir& operator=(const HostShareDir&) = delete;

    const std::string& dir() const { return dir_; }
    void release();

private:
    std::string dir_;
};

// The mount points at or below `dir` in a /proc/<pid>/mountinfo text (octal escapes such as
// \040 decoded), in the order listed (parents before the mounts stacked on them).
std::vector<std::string> mount_points_under(const std::string& mountinfo, const std::string& dir);

// Unmounts everything at or below `dir` (lazily: MNT_DETACH), then removes the mount-point
// files and empty directories it holds and `dir` itself; never removes anything with
// content. Ok when `dir` does not exist. For teardown, and for `delete` after a crash
// (there on the share dir, then on the VM directory that held it).
Result<void> release_host_shares(const std::string& dir);

} // namespace runvm::shim
