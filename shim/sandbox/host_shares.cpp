// The host side of the virtio-fs share: bind mounts of the spec's sources under one
// private directory, and their removal (also after a crash).
#include "shim/sandbox/host_shares.hpp"

#include <cerrno>
#include <cstring>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

namespace {

std::string decode_octal_escapes(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const char a = s[i + 1];
            const char b = s[i + 2];
            const char c = s[i + 3];
            if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
                out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

bool at_or_under(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

bool valid_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\0') == std::string::npos;
}

Result<void> make_mount_point(const std::string& path, bool directory) {
    if (directory) {
        if (::mkdir(path.c_str(), 0700) != 0) {
            return Err(Error::from_errno("mkdir share mount point " + path));
        }
        return Ok();
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        return Err(Error::from_errno("create share mount point " + path));
    }
    return Ok();
}

Result<void> bind_share(const std::string& dir, const HostShare& s) {
    if (!valid_name(s.name)) {
        return Err(Error::with_errno(EINVAL, "share name '" + s.name + "' for " + s.source));
    }
    const std::string target = dir + "/" + s.name;
    RUNVM_TRY(make_mount_point(target, s.directory));
    const unsigned long bind = MS_BIND | (s.recursive ? static_cast<unsigned long>(MS_REC) : 0UL);
    if (::mount(s.source.c_str(), target.c_str(), nullptr, bind, nullptr) != 0) {
        return Err(Error::from_errno("bind mount " + s.source + " on " + target));
    }
    // The guest is root on its share: nothing it writes may be a set-user-ID program or a
    // device node on the host. A bind mount takes its flags on a remount.
    const unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV |
                                (s.readonly ? static_cast<unsigned long>(MS_RDONLY) : 0UL);
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) {
        // Flags a less privileged mount namespace locked on the source must be kept.
        struct statvfs vfs {};
        if (errno != EPERM || ::statvfs(target.c_str(), &vfs) != 0 ||
            ::mount(nullptr, target.c_str(), nullptr, flags | vfs.f_flag, nullptr) != 0) {
            return Err(Error::from_errno("remount bind " + target +
                                         (s.readonly ? " read-only" : " nosuid,nodev")));
        }
    }
    // The remount changes the top mount only: an rbind copied every submount with its own
    // flags, and each must be nosuid,nodev too (Linux 5.12; issue #21 item 4).
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (s.recursive &&
        ::mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) != 0) {
        return Err(Error::from_errno("mount_setattr recursive nosuid,nodev " + target));
    }
    return Ok();
}

// Removes the mount points left in `dir` (files, empty directories) and `dir`.
Result<void> remove_share_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            return Ok();
        }
        return Err(Error::from_errno("open share dir " + dir));
    }
    DIR* d = ::fdopendir(::dup(fd.get()));
    if (d == nullptr) {
        return Err(Error::from_errno("fdopendir share dir " + dir));
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    ::closedir(d);
    std::string failed;
    for (const auto& name : names) {
        // rmdir only ever removes an empty directory: data in a share is never touched.
        if (::unlinkat(fd.get(), name.c_str(), 0) != 0 &&
            (errno != EISDIR || ::unlinkat(fd.get(), name.c_str(), AT_REMOVEDIR) != 0)) {
            failed += " " + name + " (" + std::strerror(errno) + ")";
        }
    }
    if (!failed.empty()) {
        return Err(Error::msg("remove share mount points in " + dir + ":" + failed));
    }
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        return Err(Error::from_errno("rmdir share dir " + dir));
    }
    return Ok();
}

} // namespace

HostShare rootfs_share(const std::string& rootfs_dir) {
    HostShare s;
    s.source = rootfs_dir;
    s.name = kRootfsShareName;
    s.directory = true;
    s.recursive = true;
    return s;
}

std::vector<std::string> mount_points_under(const std::string& mountinfo, const std::string& dir) {
    std::vector<std::string> out;
    std::istringstream lines(mountinfo);
    std::string line;
    while (std::getline(lines, line)) {
        // "<id> <parent> <major:minor> <root> <mount point> <options> ..."
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        if (!(fields >> id >> parent >> dev >> root >> point)) {
            continue;
        }
        point = decode_octal_escapes(point);
        if (at_or_under(point, dir)) {
            out.push_back(point);
        }
    }
    return out;
}

Result<void> release_host_shares(const std::string& dir) {
    if (dir.empty() || dir[0] != '/') {
        return Err(Error::with_errno(EINVAL, "share dir '" + dir + "': not an absolute path"));
    }
    // Stacked mounts (a mount made over another) need one round each; a few rounds are
    // enough for what create() makes: the private self bind, one mount per share.
    for (int round = 0; round < 4; ++round) {
        RUNVM_ASSIGN_OR_RETURN(const std::string info, read_file("/proc/self/mountinfo"));
        const auto points = mount_points_under(info, dir);
        if (points.empty()) {
            break;
        }
        for (auto it = points.rbegin(); it != points.rend(); ++it) {
            if (::umount2(it->c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
                errno != ENOENT) {
                return Err(Error::from_errno("umount2 " + *it));
            }
        }
    }
    return remove_share_dir(dir);
}

Result<HostShareDir> HostShareDir::create(const std::string& dir,
                                          const std::vector<HostShare>& shares) {
    RUNVM_TRY(release_host_shares(dir));
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return Err(Error::from_errno("mkdir share dir " + dir));
    }
    HostShareDir d;
    d.dir_ = dir; // from here a failure's drop undoes what was done
    // A private mount of its own: the share's mounts and unmounts stay in this mount
    // namespace even when the run dir is on a shared mount (systemd makes / shared).
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        return Err(Error::from_errno("bind mount share dir " + dir + " on itself"));
    }
    if (::mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
        return Err(Error::from_errno("make share dir " + dir + " private"));
    }
    for (const auto& s : shares) {
        RUNVM_TRY(bind_share(dir, s));
    }
    return d;
}

HostShareDir& HostShareDir::operator=(HostShareDir&& o) noexcept {
    if (this != &o) {
        release();
        dir_ = std::move(o.dir_);
        o.dir_.clear();
    }
    return *this;
}

void HostShareDir::release() {
    if (dir_.empty()) {
        return;
    }
    if (auto r = release_host_shares(dir_); !r) {
        // `delete` tries again (release_host_shares on the run dir).
        spdlog::warn("{}", r.error().str());
    }
    dir_.clear();
}

} // namespace runvm::shim
