// Moving PID 1 off the initramfs root onto a tmpfs.
#include "guest_agent/pid1/initramfs_root.hpp"

#include <cerrno>
#include <sstream>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"

namespace runvm::agent {

bool mountinfo_root_is_rootfs(const std::string& mountinfo) {
    // "36 1 0:1 / / rw - rootfs rootfs rw": field 5 is the mount point, the first field
    // after " - " the filesystem type. The last mount on "/" is the one in effect.
    std::istringstream in(mountinfo);
    std::string line;
    bool rootfs = false;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        if (!(fields >> id >> parent >> dev >> root >> point) || point != "/") {
            continue;
        }
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) {
            continue;
        }
        std::istringstream tail(line.substr(dash + 3));
        std::string type;
        tail >> type;
        rootfs = type == "rootfs";
    }
    return rootfs;
}

Result<void> switch_to_tmpfs_root(const std::string& new_root) {
    if (::mkdir(new_root.c_str(), 0755) < 0 && errno != EEXIST) {
        return Err(Error::from_errno("mkdir " + new_root));
    }
    if (::mount("tmpfs", new_root.c_str(), "tmpfs", 0, "mode=0755") < 0) {
        return Err(Error::from_errno("mount tmpfs on " + new_root));
    }
    for (const char* d : {"/dev", "/proc", "/sys", "/run", "/tmp", "/mnt", "/etc"}) {
        const std::string path = new_root + d;
        if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + path));
        }
    }
    if (::chdir(new_root.c_str()) < 0) {
        return Err(Error::from_errno("chdir " + new_root));
    }
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) {
        return Err(Error::from_errno("mount --move " + new_root + " to /"));
    }
    if (::chroot(".") < 0) {
        return Err(Error::from_errno("chroot " + new_root));
    }
    if (::chdir("/") < 0) {
        return Err(Error::from_errno("chdir / after chroot"));
    }
    return Ok();
}

Result<void> leave_initramfs_root(const std::string& new_root) {
    if (::mkdir("/proc", 0555) < 0 && errno != EEXIST) {
        return Err(Error::from_errno("mkdir /proc"));
    }
    const bool mounted =
        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
    if (!mounted && errno != EBUSY) {
        return Err(Error::from_errno("mount proc on /proc"));
    }
    auto text = read_file("/proc/self/mountinfo");
    if (mounted) {
        ::umount2("/proc", MNT_DETACH);
    }
    if (!text) {
        return Err(text.error());
    }
    if (!mountinfo_root_is_rootfs(*text)) {
        return Ok();
    }
    return switch_to_tmpfs_root(new_root);
}

} // namespace runvm::agent
