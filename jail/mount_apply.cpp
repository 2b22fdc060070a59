// The jail's root: tmpfs, symlinks, binds remounted with their flags, procfs, pivot_root.
#include "jail/mount_apply.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::jail {

namespace {

using Kind = MountStep::Kind;

// Every directory of `path` below `root` (both absolute), made 0755 where missing. They are
// in the jail's own tmpfs, so nothing there can be a symlink we did not make.
Result<void> make_parents(const std::string& path) {
    for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1)) {
        const std::string dir = path.substr(0, at);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + dir));
        }
    }
    return Ok();
}

// An empty directory or file at `target` to mount `source` on, of the same kind.
Result<void> make_mount_point(const std::string& source, const std::string& target) {
    RUNVM_TRY(make_parents(target));
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
        return Err(Error::from_errno("stat " + source));
    }
    if (S_ISDIR(st.st_mode)) {
        if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + target));
        }
        return Ok();
    }
    UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        return Err(Error::from_errno("create mount point " + target));
    }
    return Ok();
}

Result<void> bind(const MountStep& step, const std::string& target) {
    RUNVM_TRY(make_mount_point(step.source, target));
    if (::mount(step.source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        return Err(Error::from_errno("bind " + step.source));
    }
    // A bind takes its flags only from a remount of it (mount(2), "Creating a bind mount").
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID;
    flags |= step.readonly ? MS_RDONLY : 0;
    flags |= step.dev ? MS_NOEXEC : MS_NODEV;
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) {
        return Err(Error::from_errno("remount bind " + step.source + " nosuid" +
                                     (step.dev ? ",noexec" : ",nodev") +
                                     (step.readonly ? ",ro" : "")));
    }
    return Ok();
}

Result<void> apply_step(const MountStep& step, const std::string& target,
                        const IdmapBinder& idmap) {
    switch (step.kind) {
    case Kind::symlink:
        if (::symlink(step.source.c_str(), target.c_str()) != 0) {
            return Err(Error::from_errno("symlink " + step.target + " -> " + step.source));
        }
        return Ok();
    case Kind::bind:
        return bind(step, target);
    case Kind::proc:
        RUNVM_TRY(make_parents(target));
        if (::mkdir(target.c_str(), 0555) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + target));
        }
        // hidepid=invisible: the jail user sees only its own processes (Linux 5.8).
        if (::mount("proc", target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "hidepid=invisible") != 0) {
            return Err(Error::from_errno("mount proc on " + step.target));
        }
        return Ok();
    case Kind::idmap_bind:
        if (!idmap) {
            return Err(Error::with_errno(ENOTSUP, "idmapped bind " + step.source +
                                                      ": no user namespace to map through"));
        }
        RUNVM_TRY(make_mount_point(step.source, target));
        return idmap(step.source, target, step.readonly);
    }
    return Ok();
}

} // namespace

Result<void> apply_mount_plan(const std::string& root, const std::vector<MountStep>& plan,
                              const IdmapBinder& idmap) {
    if (::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=1m,nr_inodes=1024") != 0) {
        return Err(Error::from_errno("mount tmpfs on " + root));
    }
    for (const MountStep& step : plan) {
        if (auto r = apply_step(step, root + step.target, idmap); !r) {
            return Err(std::move(r).error().context(step.target));
        }
    }
    return Ok();
}

Result<void> pivot_into(const std::string& root) {
    if (::chdir(root.c_str()) != 0) {
        return Err(Error::from_errno("chdir " + root));
    }
    // pivot_root(".", "."): the old root is stacked on the new one, then detached
    // (pivot_root(2), NOTES), so no directory for it is needed.
    if (::syscall(SYS_pivot_root, ".", ".") != 0) {
        return Err(Error::from_errno("pivot_root " + root));
    }
    if (::umount2(".", MNT_DETACH) != 0) {
        return Err(Error::from_errno("umount2 old root"));
    }
    if (::chdir("/") != 0) {
        return Err(Error::from_errno("chdir /"));
    }
    if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                nullptr) != 0) {
        return Err(Error::from_errno("remount jail root read-only"));
    }
    return Ok();
}

} // namespace runvm::jail
