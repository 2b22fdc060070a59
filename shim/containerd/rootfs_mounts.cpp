// mount(2) of containerd's rootfs mounts.
#include "shim/containerd/rootfs_mounts.hpp"

#include <map>

#include <sys/mount.h>

namespace runvm::containerd {

namespace {

struct FlagOption {
    bool clear;
    unsigned long flag;
};

const std::map<std::string, FlagOption>& flag_options() {
    static const std::map<std::string, FlagOption> table = {
        {"async", {true, MS_SYNCHRONOUS}},
        {"atime", {true, MS_NOATIME}},
        {"bind", {false, MS_BIND}},
        {"defaults", {false, 0}},
        {"dev", {true, MS_NODEV}},
        {"diratime", {true, MS_NODIRATIME}},
        {"dirsync", {false, MS_DIRSYNC}},
        {"exec", {true, MS_NOEXEC}},
        {"mand", {false, MS_MANDLOCK}},
        {"noatime", {false, MS_NOATIME}},
        {"nodev", {false, MS_NODEV}},
        {"nodiratime", {false, MS_NODIRATIME}},
        {"noexec", {false, MS_NOEXEC}},
        {"nomand", {true, MS_MANDLOCK}},
        {"norelatime", {true, MS_RELATIME}},
        {"nostrictatime", {true, MS_STRICTATIME}},
        {"nosuid", {false, MS_NOSUID}},
        {"rbind", {false, MS_BIND | MS_REC}},
        {"relatime", {false, MS_RELATIME}},
        {"remount", {false, MS_REMOUNT}},
        {"ro", {false, MS_RDONLY}},
        {"rw", {true, MS_RDONLY}},
        {"strictatime", {false, MS_STRICTATIME}},
        {"suid", {true, MS_NOSUID}},
        {"sync", {false, MS_SYNCHRONOUS}},
    };
    return table;
}

} // namespace

ParsedMountOptions parse_mount_options(const std::vector<std::string>& options) {
    ParsedMountOptions parsed;
    for (const auto& o : options) {
        if (auto f = flag_options().find(o); f != flag_options().end()) {
            if (f->second.clear) {
                parsed.flags &= ~f->second.flag;
            } else {
                parsed.flags |= f->second.flag;
            }
        } else if (o == "private" || o == "rprivate") {
            parsed.propagation_private = true;
        } else {
            parsed.data += (parsed.data.empty() ? "" : ",") + o;
        }
    }
    return parsed;
}

Result<void> mount_rootfs(const std::vector<MountSpec>& mounts, const std::string& target) {
    size_t mounted = 0;
    for (const auto& m : mounts) {
        const ParsedMountOptions p = parse_mount_options(m.options);
        const bool bind = (p.flags & MS_BIND) != 0;
        // A read-only bind needs a remount: the first mount(2) ignores MS_RDONLY with MS_BIND.
        const unsigned long first = bind ? p.flags & ~MS_RDONLY : p.flags;
        if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), first,
                    p.data.empty() ? nullptr : p.data.c_str()) != 0) {
            Error e = Error::from_errno("mount " + m.type + " " + m.source + " on " + target +
                                        " (" + p.data + ")");
            for (size_t i = 0; i < mounted; ++i) {
                ::umount2(target.c_str(), MNT_DETACH);
            }
            return Err(std::move(e));
        }
        ++mounted;
        if (bind && (p.flags & MS_RDONLY) &&
            ::mount("", target.c_str(), "", MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
            Error e = Error::from_errno("remount read-only " + target);
            for (size_t i = 0; i < mounted; ++i) {
                ::umount2(target.c_str(), MNT_DETACH);
            }
            return Err(std::move(e));
        }
    }
    return Ok();
}

Result<void> unmount_all(const std::string& target) {
    // Bounded: each round removes one mount from the stack.
    for (int i = 0; i < 64; ++i) {
        if (::umount2(target.c_str(), MNT_DETACH) != 0) {
            if (errno == EINVAL || errno == ENOENT) {
                return Ok();
            }
            return Err(Error::from_errno("umount " + target));
        }
    }
    return Err(Error::with_errno(EBUSY, "umount " + target + ": still mounted after 64 rounds"));
}

} // namespace runvm::containerd
