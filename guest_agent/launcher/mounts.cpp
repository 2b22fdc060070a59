// Spec mounts: bind (with a remount for its options), cgroup2 for "cgroup", everything else
// by type; propagation flags applied afterwards, one mount(2) each.
#include "guest_agent/launcher/mounts.hpp"

#include <cerrno>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/launcher/mount_options.hpp"

namespace runvm::agent {

namespace {

Result<void> sys_mount(const std::string& source, const std::string& target,
                       const std::string& type, unsigned long flags, const std::string& data) {
    if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                type.empty() ? nullptr : type.c_str(), flags,
                data.empty() ? nullptr : data.c_str()) < 0) {
        return Err(Error::from_errno("mount " + (type.empty() ? source : type) + " on " + target));
    }
    return Ok();
}

bool is_tmpfs_or_dev(const oci::Mount& m) {
    return m.type.value_or("") == "tmpfs" || clean_path(m.destination) == "/dev";
}

Result<void> mount_one(const std::string& rootfs, const oci::Mount& m) {
    const MountOptions opts = parse_mount_options(m.options.value_or(std::vector<std::string>{}));
    std::string type = m.type.value_or("");
    const std::string source = m.source.value_or("");
    const bool bind = opts.is_bind() || type == "bind";
    RUNVM_ASSIGN_OR_RETURN(const std::string dest, secure_join(rootfs, m.destination));

    if (bind) {
        struct stat st;
        if (::stat(source.c_str(), &st) < 0) {
            return Err(Error::from_errno("stat bind source " + source));
        }
        if (S_ISDIR(st.st_mode)) {
            RUNVM_TRY(mkdir_all(dest, 0755));
        } else {
            RUNVM_TRY(touch_file(dest));
        }
        RUNVM_TRY(sys_mount(source, dest, "", MS_BIND | (opts.flags & MS_REC), ""));
        // A bind mount ignores its other flags; they take effect on a remount.
        if ((opts.flags & ~(MS_REC | MS_REMOUNT | MS_BIND)) != 0) {
            const unsigned long flags = opts.flags | MS_REMOUNT | MS_BIND;
            if (::mount(nullptr, dest.c_str(), nullptr, flags, nullptr) < 0) {
                // Flags locked by a less privileged mount namespace must be kept.
                struct statvfs vfs;
                if (errno != EPERM || ::statvfs(dest.c_str(), &vfs) < 0) {
                    return Err(Error::from_errno("remount bind " + dest));
                }
                RUNVM_TRY(sys_mount("", dest, "", flags | vfs.f_flag, ""));
            }
        }
    } else {
        // runc keeps the mode of a tmpfs destination that already existed (over mode=).
        struct stat before;
        const bool existed = type == "tmpfs" && ::stat(dest.c_str(), &before) == 0;
        RUNVM_TRY(mkdir_all(dest, 0755));
        unsigned long flags = opts.flags;
        if (is_tmpfs_or_dev(m)) {
            flags &= ~static_cast<unsigned long>(MS_RDONLY); // made read-only after setup
        }
        // The guest kernel has cgroup v2 only; a host-mode run gets cgroup2 too, which
        // differs from runc on a v1 host (listed in the differential test).
        if (type == "cgroup" || type == "cgroup2") {
            type = "cgroup2";
        }
        RUNVM_TRY(sys_mount(source.empty() ? type : source, dest, type, flags, opts.data));
        if (existed && ::chmod(dest.c_str(), before.st_mode & 07777) < 0) {
            return Err(Error::from_errno("chmod tmpfs " + dest));
        }
    }
    for (unsigned long p : opts.propagation) {
        RUNVM_TRY(sys_mount("", dest, "", p, ""));
    }
    return Ok();
}

} // namespace

Result<void> mount_spec_mounts(const std::string& rootfs, const std::vector<oci::Mount>& mounts) {
    for (size_t i = 0; i < mounts.size(); ++i) {
        if (auto r = mount_one(rootfs, mounts[i]); !r.ok()) {
            return Err(std::move(r).error().context("mounts[" + std::to_string(i) + "] " +
                                                    mounts[i].destination));
        }
    }
    return Ok();
}

Result<void> remount_readonly(const std::string& path) {
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) == 0) {
        return Ok();
    }
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) < 0) {
        return Err(Error::from_errno("statvfs " + path));
    }
    flags |=
        vfs.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    return sys_mount("", path, "", flags, "");
}

Result<void> finalize_readonly_mounts(const std::vector<oci::Mount>& mounts) {
    for (const auto& m : mounts) {
        const MountOptions opts =
            parse_mount_options(m.options.value_or(std::vector<std::string>{}));
        if ((opts.flags & MS_RDONLY) != 0 && !opts.is_bind() && is_tmpfs_or_dev(m)) {
            const unsigned long flags =
                (opts.flags & ~static_cast<unsigned long>(MS_BIND)) | MS_REMOUNT;
            RUNVM_TRY(
                sys_mount("", clean_path(m.destination), m.type.value_or(""), flags, opts.data));
        }
    }
    return Ok();
}

} // namespace runvm::agent
