// Device nodes and /dev symlinks, created under the rootfs before pivot_root.
#include "guest_agent/launcher/devices.hpp"

#include <cerrno>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/launcher/mount_options.hpp"

namespace runvm::agent {

namespace {
oci::Device char_device(const char* path, int64_t major, int64_t minor) {
    oci::Device d;
    d.type = "c";
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
}

Result<void> create_device(const std::string& rootfs, const oci::Device& d, bool bind) {
    RUNVM_ASSIGN_OR_RETURN(const std::string dest, secure_join(rootfs, d.path));
    const auto slash = dest.rfind('/');
    RUNVM_TRY(mkdir_all(dest.substr(0, slash), 0755));
    if (bind) {
        RUNVM_TRY(touch_file(dest));
        if (::mount(d.path.c_str(), dest.c_str(), "bind", MS_BIND, nullptr) < 0) {
            return Err(Error::from_errno("bind device " + d.path));
        }
        return Ok();
    }
    mode_t kind = S_IFCHR;
    if (d.type == "b") {
        kind = S_IFBLK;
    } else if (d.type == "p") {
        kind = S_IFIFO;
    } else if (d.type != "c" && d.type != "u") {
        return Err(Error::with_errno(EINVAL, "device " + d.path + ": type \"" + d.type + "\""));
    }
    const mode_t perm = d.file_mode.value_or(0666) & 07777;
    const dev_t dev = makedev(static_cast<unsigned>(d.major.value_or(0)),
                              static_cast<unsigned>(d.minor.value_or(0)));
    ::unlink(dest.c_str());
    if (::mknod(dest.c_str(), kind | perm, dev) < 0) {
        return Err(Error::from_errno("mknod " + d.path));
    }
    // mknod honours the umask; the spec's mode is meant exactly.
    if (::chmod(dest.c_str(), perm) < 0) {
        return Err(Error::from_errno("chmod " + d.path));
    }
    if (::chown(dest.c_str(), d.uid.value_or(0), d.gid.value_or(0)) < 0) {
        return Err(Error::from_errno("chown " + d.path));
    }
    return Ok();
}
} // namespace

std::vector<oci::Device> default_devices() {
    // runc's order (specconv.AllowedDevices), which shows in the mount table of a user
    // namespace, where each is a bind mount.
    return {char_device("/dev/null", 1, 3), char_device("/dev/random", 1, 8),
            char_device("/dev/full", 1, 7), char_device("/dev/tty", 5, 0),
            char_device("/dev/zero", 1, 5), char_device("/dev/urandom", 1, 9)};
}

Result<void> create_devices(const std::string& rootfs, const std::vector<oci::Device>& devices,
                            bool in_user_namespace) {
    for (const auto& d : devices) {
        RUNVM_TRY(create_device(rootfs, d, in_user_namespace));
    }
    return Ok();
}

Result<void> create_dev_symlinks(const std::string& rootfs) {
    const std::string ptmx = rootfs + "/dev/ptmx";
    if (::unlink(ptmx.c_str()) < 0 && errno != ENOENT) {
        return Err(Error::from_errno("unlink /dev/ptmx"));
    }
    if (::symlink("pts/ptmx", ptmx.c_str()) < 0) {
        return Err(Error::from_errno("symlink /dev/ptmx"));
    }
    std::vector<std::pair<const char*, const char*>> links = {
        {"/proc/self/fd", "/dev/fd"},
        {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"},
        {"/proc/self/fd/2", "/dev/stderr"},
    };
    if (::access("/proc/kcore", F_OK) == 0) {
        links.emplace_back("/proc/kcore", "/dev/core");
    }
    for (const auto& [target, name] : links) {
        const std::string path = rootfs + name;
        if (::symlink(target, path.c_str()) < 0 && errno != EEXIST) {
            return Err(Error::from_errno(std::string("symlink ") + name));
        }
    }
    return Ok();
}

bool needs_dev_setup(const oci::Spec& spec) {
    if (!spec.mounts) {
        return true;
    }
    for (const auto& m : *spec.mounts) {
        if (clean_path(m.destination) == "/dev") {
            const auto o = parse_mount_options(m.options.value_or(std::vector<std::string>{}));
            return !o.is_bind() && m.type.value_or("") != "bind";
        }
    }
    return true;
}

} // namespace runvm::agent
