// enter_share_namespace: unshare, pivot_root onto a tmpfs, bind back what is kept, detach
// the rest (bubblewrap's order: the old root stays reachable below the new one while the
// binds are made, so no source path is hidden by the tmpfs).
#include "broker/runtime/share_namespace.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace runvm::broker {

namespace {

// Where the tmpfs is mounted before it becomes "/": /tmp exists everywhere (FHS), and the
// mount over it is seen in this namespace only; the real /tmp stays below the old root.
constexpr char kStage[] = "/tmp";
constexpr char kOldRoot[] = "/.oldroot"; // relative to the new root
constexpr unsigned long kSafeFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// A kept directory: bound from where it really is (symlinks resolved) to where the broker's
// devices will look for it (the path as they spell it, made absolute).
struct Bind {
    std::string source; // realpath
    std::string target; // absolute, lexically normal, no trailing slash
    bool readonly = false;
};

Result<std::vector<Bind>> resolve(const std::vector<KeptDirectory>& kept, const std::string& cwd) {
    std::vector<Bind> out;
    for (const auto& k : kept) {
        char buf[PATH_MAX];
        if (::realpath(k.path.c_str(), buf) == nullptr) {
            return Err(Error::from_errno("realpath " + k.path));
        }
        struct stat st {};
        if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
            return Err(Error::with_errno(ENOTDIR, "kept directory " + k.path));
        }
        std::string target = (std::filesystem::path(cwd) / k.path).lexically_normal().string();
        while (target.size() > 1 && target.back() == '/') {
            target.pop_back();
        }
        if (std::string(buf) == "/" || target == "/") {
            return Err(Error::with_errno(EINVAL, "kept directory " + k.path + " is /"));
        }
        out.push_back({buf, std::move(target), k.readonly});
    }
    // Parents before children, so a child's bind stacks on its parent's; one entry per
    // path, read-only only when every user of it asked for read-only.
    std::sort(out.begin(), out.end(),
              [](const Bind& a, const Bind& b) { return a.target < b.target; });
    std::vector<Bind> unique;
    for (auto& k : out) {
        if (!unique.empty() && unique.back().target == k.target) {
            unique.back().readonly = unique.back().readonly && k.readonly;
        } else {
            unique.push_back(std::move(k));
        }
    }
    return unique;
}

// mkdir -p on the new root; components that exist (inside an earlier bind) are kept.
Result<void> make_mount_point(const std::string& path) {
    for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        const std::string part = path.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + part + " in the broker's root"));
        }
        if (slash == std::string::npos) {
            return Ok();
        }
    }
}

Result<void> bind_kept(const Bind& k) {
    RUNVM_TRY(make_mount_point(k.target));
    const std::string source = std::string(kOldRoot) + k.source;
    if (::mount(source.c_str(), k.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        return Err(Error::from_errno("mount bind " + k.source + " on " + k.target +
                                     " in the broker's root"));
    }
    // The broker never executes, opens devices from, or follows set-user-ID files in a
    // share. The remount changes the top mount of the rbind only: every submount was
    // copied with its own flags (a host volume under the share is one), so the same flags
    // go on each of them too (mount_setattr AT_RECURSIVE, Linux 5.12; issue #21 item 4).
    const unsigned long flags = MS_BIND | MS_REMOUNT | kSafeFlags |
                                (k.readonly ? static_cast<unsigned long>(MS_RDONLY) : 0UL);
    if (::mount(nullptr, k.target.c_str(), nullptr, flags, nullptr) != 0) {
        return Err(Error::from_errno("remount " + k.target + " nosuid,nodev,noexec" +
                                     (k.readonly ? ",ro" : "")));
    }
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                    (k.readonly ? static_cast<uint64_t>(MOUNT_ATTR_RDONLY) : 0U);
    if (::mount_setattr(AT_FDCWD, k.target.c_str(), AT_RECURSIVE, &attr, sizeof attr) != 0) {
        return Err(Error::from_errno("mount_setattr recursive nosuid,nodev,noexec" +
                                     std::string(k.readonly ? ",ro " : " ") + k.target));
    }
    return Ok();
}

// The fs device reopens its O_PATH fds through /proc/self/fd. hidepid=invisible hides
// every process the broker may not ptrace (all but itself once its capabilities are
// dropped), subset=pid hides /proc/sys and the rest (Linux 5.8; older kernels get
// hidepid=2), and read-only keeps sysctls unwritable even where the rest shows.
Result<void> mount_proc() {
    if (::mkdir("/proc", 0555) != 0) {
        return Err(Error::from_errno("mkdir /proc in the broker's root"));
    }
    const unsigned long flags = kSafeFlags | MS_RDONLY;
    if (::mount("proc", "/proc", "proc", flags, "hidepid=invisible,subset=pid") == 0) {
        return Ok();
    }
    if (errno == EINVAL && ::mount("proc", "/proc", "proc", flags, "hidepid=2") == 0) {
        return Ok();
    }
    return Err(Error::from_errno("mount proc on /proc in the broker's root"));
}

// A tmpfs on kStage becomes "/", the old root below it at kOldRoot.
Result<void> pivot_onto_stage() {
    if (::mount("tmpfs", kStage, "tmpfs", kSafeFlags, "mode=0755,size=1m,nr_inodes=4096") != 0) {
        return Err(Error::from_errno(std::string("mount tmpfs on ") + kStage));
    }
    const std::string put_old = std::string(kStage) + kOldRoot;
    if (::mkdir(put_old.c_str(), 0700) != 0) {
        return Err(Error::from_errno("mkdir " + put_old));
    }
    if (::syscall(SYS_pivot_root, kStage, put_old.c_str()) != 0) {
        const Error e = Error::from_errno(std::string("pivot_root ") + kStage);
        ::umount2(kStage, MNT_DETACH);
        return Err(e);
    }
    return Ok();
}

// Makes the process root a bind mount of "/" (on kStage), which pivot_root accepts.
Result<void> reroot_on_bind_of_root() {
    if (::mount("/", kStage, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        return Err(Error::from_errno(std::string("bind / on ") + kStage));
    }
    if (::chroot(kStage) != 0 || ::chdir("/") != 0) {
        return Err(Error::from_errno(std::string("chroot ") + kStage));
    }
    return Ok();
}

} // namespace

Result<void> enter_share_namespace(const std::vector<KeptDirectory>& kept) {
    char cwd_buf[PATH_MAX];
    if (::getcwd(cwd_buf, sizeof cwd_buf) == nullptr) {
        return Err(Error::from_errno("getcwd"));
    }
    const std::string cwd = cwd_buf;
    RUNVM_ASSIGN_OR_RETURN(const std::vector<Bind> dirs, resolve(kept, cwd));
    if (::unshare(CLONE_NEWNS) != 0) {
        return Err(Error::from_errno("unshare CLONE_NEWNS"));
    }
    // Nothing done here may propagate back to the host's mounts (systemd makes / shared).
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return Err(Error::from_errno("mount / rprivate"));
    }
    if (auto pivoted = pivot_onto_stage(); !pivoted.ok()) {
        if (pivoted.error().code() != EINVAL) {
            return pivoted;
        }
        // "/" is the initramfs (rootfs), which pivot_root cannot move: enter a bind mount
        // of it first, as switch_root-less systems do, and pivot from there.
        spdlog::debug("pivot_root from the initramfs: re-rooting on a bind mount of /");
        RUNVM_TRY(reroot_on_bind_of_root());
        RUNVM_TRY(pivot_onto_stage());
    }
    if (::chdir("/") != 0) {
        return Err(Error::from_errno("chdir / after pivot_root"));
    }
    for (const auto& k : dirs) {
        RUNVM_TRY(bind_kept(k));
    }
    RUNVM_TRY(mount_proc());
    if (::umount2(kOldRoot, MNT_DETACH) != 0) {
        return Err(Error::from_errno(std::string("umount2 old root ") + kOldRoot));
    }
    if (::rmdir(kOldRoot) != 0) {
        return Err(Error::from_errno(std::string("rmdir ") + kOldRoot));
    }
    if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | kSafeFlags, nullptr) !=
        0) {
        return Err(Error::from_errno("remount the broker's root read-only"));
    }
    // Back to the same working directory where it still exists (it does when it holds a
    // kept directory): relative device paths keep resolving as they did.
    if (::chdir(cwd.c_str()) != 0 && ::chdir("/") != 0) {
        return Err(Error::from_errno("chdir / in the broker's root"));
    }
    for (const auto& k : dirs) {
        spdlog::info("mount namespace keeps {}{}{}", k.target,
                     k.source == k.target ? "" : " (from " + k.source + ")",
                     k.readonly ? " (ro)" : "");
    }
    return Ok();
}

} // namespace runvm::broker
