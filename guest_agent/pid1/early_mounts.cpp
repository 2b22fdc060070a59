// The early mount table of the guest.
#include "guest_agent/pid1/early_mounts.hpp"

#include <cerrno>
#include <string>

#include <sys/mount.h>
#include <sys/stat.h>

namespace runvm::agent {

namespace {
struct EarlyMount {
    const char* source;
    const char* target;
    const char* type;
    unsigned long flags;
    const char* data;
};

constexpr EarlyMount kMounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};
} // namespace

Result<void> mount_early_filesystems() {
    for (const auto& m : kMounts) {
        if (::mkdir(m.target, 0755) < 0 && errno != EEXIST) {
            return Err(Error::from_errno(std::string("mkdir ") + m.target));
        }
        if (::mount(m.source, m.target, m.type, m.flags, m.data) < 0 && errno != EBUSY) {
            return Err(Error::from_errno(std::string("mount ") + m.type + " on " + m.target));
        }
    }
    return Ok();
}

} // namespace runvm::agent
