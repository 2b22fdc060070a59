// open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount (Linux 5.12).
#include "jail/idmapped_mount.hpp"

#include <cerrno>
#include <charconv>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#include "base/unique_fd.hpp"

namespace runvm::jail {

Result<void> bind_idmapped(const std::string& source, const std::string& target, int userns_fd,
                           bool readonly) {
    UniqueFd tree(
        ::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) {
        return Err(Error::from_errno("open_tree " + source));
    }
    // The only user is a file server: it never executes from, opens devices on, or trusts
    // set-user-ID files in what it serves (the broker's own namespace did the same).
    mount_attr attr{};
    const bool idmap = userns_fd >= 0;
    attr.attr_set = (idmap ? static_cast<uint64_t>(MOUNT_ATTR_IDMAP) : 0U) | MOUNT_ATTR_NOSUID |
                    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                    (readonly ? static_cast<uint64_t>(MOUNT_ATTR_RDONLY) : 0U);
    attr.userns_fd = idmap ? static_cast<uint64_t>(userns_fd) : 0U;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
        const Error e = Error::from_errno("mount_setattr idmap,nosuid,nodev,noexec" +
                                          std::string(readonly ? ",ro " : " ") + source);
        // EINVAL: a mount of the tree whose file system cannot be idmapped (overlayfs has no
        // FS_ALLOW_IDMAP); EPERM: one that is idmapped already.
        if (idmap && (e.code() == EINVAL || e.code() == EPERM)) {
            return Err(e.context("a mount at or under " + source +
                                 " cannot be idmapped (overlayfs, or idmapped already)"));
        }
        return Err(e);
    }
    if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        return Err(Error::from_errno("move_mount " + source + " on " + target));
    }
    return Ok();
}

namespace {

// File systems that take an idmapping (FS_ALLOW_IDMAP), from the Linux release that gave it.
struct Idmappable {
    std::string_view type;
    int major;
    int minor;
};
constexpr Idmappable kIdmappable[] = {
    {"ext2", 5, 12}, {"ext3", 5, 12},  {"ext4", 5, 12}, {"xfs", 5, 12},
    {"vfat", 5, 12}, {"btrfs", 5, 15}, {"f2fs", 5, 18}, {"tmpfs", 6, 3},
};

// "6.1.0-13-amd64" -> {6, 1}; {0, 0} when it does not start that way.
std::pair<int, int> major_minor(std::string_view release) {
    int major = 0;
    int minor = 0;
    const char* end = release.data() + release.size();
    const auto m = std::from_chars(release.data(), end, major);
    if (m.ec != std::errc() || m.ptr == end || *m.ptr != '.' ||
        std::from_chars(m.ptr + 1, end, minor).ec != std::errc()) {
        return {0, 0};
    }
    return {major, minor};
}

bool idmappable(std::string_view type, std::pair<int, int> kernel) {
    for (const Idmappable& f : kIdmappable) {
        if (f.type == type) {
            return kernel >= std::pair{f.major, f.minor};
        }
    }
    return false;
}

// mountinfo escapes a space, tab, newline and backslash in a path as \ooo.
std::string unescape(std::string_view field) {
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && octal(field[i + 1]) &&
            octal(field[i + 2]) && octal(field[i + 3])) {
            out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                            (field[i + 3] - '0')));
            i += 3;
            continue;
        }
        out.push_back(field[i]);
    }
    return out;
}

} // namespace

bool tree_can_be_idmapped(const std::string& dir, std::string_view mountinfo,
                          std::string_view kernel_release) {
    const std::pair<int, int> kernel = major_minor(kernel_release);
    // The mount that holds `dir` itself (the longest mount point above it) counts too: an
    // idmapped bind of a plain directory is a mount of that file system.
    std::string holder_point;
    std::string_view holder_type;
    size_t start = 0;
    while (start < mountinfo.size()) {
        size_t end = mountinfo.find('\n', start);
        if (end == std::string_view::npos) {
            end = mountinfo.size();
        }
        const std::string_view line = mountinfo.substr(start, end - start);
        start = end + 1;
        // "36 35 98:0 /root /mnt/point rw,noatime master:1 - ext4 /dev/sda1 rw": the mount
        // point is the fifth field, the type the first after " - ".
        std::vector<std::string_view> fields;
        size_t at = 0;
        while (at < line.size() && fields.size() < 5) {
            const size_t space = line.find(' ', at);
            fields.push_back(
                line.substr(at, space == std::string_view::npos ? line.npos : space - at));
            at = space == std::string_view::npos ? line.size() : space + 1;
        }
        const size_t dash = line.find(" - ");
        if (fields.size() < 5 || dash == std::string_view::npos) {
            continue;
        }
        const std::string point = unescape(fields[4]);
        std::string_view type = line.substr(dash + 3);
        type = type.substr(0, type.find(' '));
        const bool above = point == "/" || dir.rfind(point + "/", 0) == 0;
        if (above && point.size() >= holder_point.size()) {
            holder_point = point; // a later mount at the same point is the one on top
            holder_type = type;
            continue;
        }
        if (point != dir && point.rfind(dir + "/", 0) != 0) {
            continue;
        }
        if (!idmappable(type, kernel)) {
            return false;
        }
    }
    return holder_point.empty() || idmappable(holder_type, kernel);
}

bool tree_can_be_idmapped(const std::string& dir, std::string_view mountinfo) {
    struct utsname u {};
    return ::uname(&u) == 0 && tree_can_be_idmapped(dir, mountinfo, u.release);
}

} // namespace runvm::jail
