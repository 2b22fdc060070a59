// bind_idmapped: a process in the jail's user namespace sees and makes files with their
// on-disk owners; on the host they stay as runc would leave them.
#include <cerrno>
#include <cstring>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "jail/idmapped_mount.hpp"
#include "jail/jail_ns_test_support.hpp"
#include "jail/user_namespace.hpp"

namespace runvm::jail {

namespace {

namespace utf = boost::unit_test;
using testing::in_child;
using testing::NeedsRoot;
using testing::ScratchDir;
using testing::why;

constexpr uint32_t kPrimary = 4242;
constexpr uint32_t kSubStart = 1879048192;

std::string owner(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return path + ": " + std::strerror(errno);
    }
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

std::string fail(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// A share as the sandbox makes one: files of root and of uid 1000 in a directory, a tmpfs
// (a volume) mounted below it, and an empty mount point beside it.
struct Share {
    ScratchDir dir;
    std::string src = dir.path + "/src";
    std::string mnt = dir.path + "/mnt";
    Share() {
        BOOST_TEST_REQUIRE(::mkdir(src.c_str(), 0755) == 0);
        BOOST_TEST_REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
        BOOST_TEST_REQUIRE(::mkdir((src + "/vol").c_str(), 0755) == 0);
        make_file(src + "/root-file", 0, 0);
        make_file(src + "/user-file", 1000, 1000);
        make_file(src + "/to-give-away", 0, 0);
    }
    ~Share() {
        ::umount2((src + "/vol").c_str(), MNT_DETACH);
        ::umount2(mnt.c_str(), MNT_DETACH);
    }
    static void make_file(const std::string& path, uid_t uid, gid_t gid) {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        BOOST_TEST_REQUIRE(fd.valid());
        BOOST_TEST_REQUIRE(::fchown(fd.get(), uid, gid) == 0);
    }
};

Result<UniqueFd> jail_namespace() {
    const std::vector<IdMap> map = {{0, kPrimary, 1}, {1, kSubStart, 65535}};
    return create_user_namespace(map, map);
}

// In a private mount namespace (nothing reaches the host's): the idmapped bind, then, after
// joining the user namespace as its root, what `inside` reports.
std::string idmapped_and_inside(const Share& share, int userns, bool readonly,
                                const std::function<std::string()>& inside) {
    return in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("private mount namespace");
        }
        if (auto r = bind_idmapped(share.src, share.mnt, userns, readonly); !r) {
            return "bind_idmapped: " + r.error().str();
        }
        // Host groups are no member of the namespace's: gone before joining it.
        if (::setgroups(0, nullptr) != 0 || ::setns(userns, CLONE_NEWUSER) != 0 ||
            ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
            return fail("join the user namespace as its root");
        }
        return inside();
    });
}

} // namespace

BOOST_AUTO_TEST_SUITE(idmapped_mount)

BOOST_AUTO_TEST_CASE(owners_inside_are_the_owners_on_disk, *utf::precondition(NeedsRoot())) {
    Share share;
    BOOST_TEST_REQUIRE(::mount("tmpfs", (share.src + "/vol").c_str(), "tmpfs", 0, "mode=0755") ==
                       0);
    Share::make_file(share.src + "/vol/in-volume", 1000, 1000);
    auto ns = jail_namespace();
    BOOST_TEST_REQUIRE(ns.ok(), why(ns));
    const std::string& m = share.mnt;
    const std::string report = idmapped_and_inside(share, ns->get(), false, [&]() -> std::string {
        std::string seen = owner(m + "/root-file") + " " + owner(m + "/user-file") + " " +
                           owner(m + "/vol/in-volume");
        // As the namespace's root, with capabilities in it only: a new file, and a chown.
        UniqueFd made(::open((m + "/made-inside").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
        if (!made) {
            return seen + " " + fail("create");
        }
        if (::chown((m + "/to-give-away").c_str(), 1000, 1000) != 0) {
            return seen + " " + fail("chown");
        }
        // An id the namespace does not map cannot be given.
        if (::chown((m + "/to-give-away").c_str(), 70000, 70000) == 0 || errno != EINVAL) {
            return seen + " " + fail("chown to an unmapped id");
        }
        return seen;
    });
    BOOST_TEST(report == "0:0 1000:1000 1000:1000");
    BOOST_TEST(owner(share.src + "/made-inside") == "0:0");
    BOOST_TEST(owner(share.src + "/to-give-away") == "1000:1000");
}

BOOST_AUTO_TEST_CASE(the_bind_is_nosuid_nodev_noexec, *utf::precondition(NeedsRoot())) {
    Share share;
    auto ns = jail_namespace();
    BOOST_TEST_REQUIRE(ns.ok(), why(ns));
    const std::string report = idmapped_and_inside(share, ns->get(), false, [&]() -> std::string {
        struct ::statvfs vfs {};
        if (::statvfs(share.mnt.c_str(), &vfs) != 0) {
            return fail("statvfs");
        }
        const unsigned long want = ST_NOSUID | ST_NODEV | ST_NOEXEC;
        return (vfs.f_flag & want) == want ? "flags" : "missing flags";
    });
    BOOST_TEST(report == "flags");
}

BOOST_AUTO_TEST_CASE(readonly_refuses_writes, *utf::precondition(NeedsRoot())) {
    Share share;
    auto ns = jail_namespace();
    BOOST_TEST_REQUIRE(ns.ok(), why(ns));
    const std::string report = idmapped_and_inside(share, ns->get(), true, [&]() -> std::string {
        UniqueFd made(::open((share.mnt + "/x").c_str(), O_WRONLY | O_CREAT, 0644));
        return made ? "created" : std::strerror(errno);
    });
    BOOST_TEST(report == std::strerror(EROFS));
}

BOOST_AUTO_TEST_CASE(an_overlayfs_under_the_source_is_refused_by_name,
                     *utf::precondition(NeedsRoot())) {
    Share share;
    for (const char* d : {"/lower", "/upper", "/work"}) {
        BOOST_TEST_REQUIRE(::mkdir((share.dir.path + d).c_str(), 0755) == 0);
    }
    const std::string options = "lowerdir=" + share.dir.path + "/lower,upperdir=" + share.dir.path +
                                "/upper,workdir=" + share.dir.path + "/work";
    auto ns = jail_namespace();
    BOOST_TEST_REQUIRE(ns.ok(), why(ns));
    const std::string report = in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("private mount namespace");
        }
        if (::mount("overlay", (share.src + "/vol").c_str(), "overlay", 0, options.c_str()) != 0) {
            return fail("mount overlay");
        }
        auto r = bind_idmapped(share.src, share.mnt, ns->get(), false);
        return r ? "mounted" : r.error().str();
    });
    BOOST_TEST(report.find("a mount at or under " + share.src + " cannot be idmapped") !=
                   std::string::npos,
               report);
}

// The host-ids mode's bind (no user namespace given): the same recursive tree and
// attributes, owners as on disk, and an overlayfs under it is no obstacle.
BOOST_AUTO_TEST_CASE(without_a_namespace_an_overlay_is_bound_plainly,
                     *utf::precondition(NeedsRoot())) {
    Share share;
    for (const char* d : {"/lower", "/upper", "/work"}) {
        BOOST_TEST_REQUIRE(::mkdir((share.dir.path + d).c_str(), 0755) == 0);
    }
    const std::string options = "lowerdir=" + share.dir.path + "/lower,upperdir=" + share.dir.path +
                                "/upper,workdir=" + share.dir.path + "/work";
    const std::string report = in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("private mount namespace");
        }
        if (::mount("overlay", (share.src + "/vol").c_str(), "overlay", 0, options.c_str()) != 0) {
            return fail("mount overlay");
        }
        auto r = bind_idmapped(share.src, share.mnt, -1, false);
        if (!r) {
            return r.error().str();
        }
        struct statvfs vfs {};
        if (::statvfs((share.mnt + "/vol").c_str(), &vfs) != 0) {
            return fail("statvfs");
        }
        const bool attrs =
            (vfs.f_flag & ST_NOSUID) && (vfs.f_flag & ST_NODEV) && (vfs.f_flag & ST_NOEXEC);
        return std::string(attrs ? "nosuid,nodev,noexec " : "attributes missing ") +
               owner(share.mnt + "/user-file");
    });
    BOOST_TEST(report == "nosuid,nodev,noexec 1000:1000");
}

BOOST_AUTO_TEST_CASE(which_trees_can_be_idmapped) {
    const std::string mountinfo =
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "30 22 0:40 / /run/vm/shared rw - tmpfs tmpfs rw\n"
        "31 30 8:1 /b/rootfs /run/vm/shared/rootfs rw - ext4 /dev/sda1 rw\n"
        "32 30 0:41 / /run/vm/shared/vol\\040a rw - overlay overlay rw,lowerdir=/l\n"
        "33 22 0:42 / /run/vm/sharedx rw - overlay overlay rw\n"
        "34 22 0:43 / /run/other rw - fuse.sshfs host:/ rw\n";
    const std::string_view k618 = "6.18.0-1-amd64";
    BOOST_TEST(tree_can_be_idmapped("/run/other2", mountinfo, k618)); // on / (ext4)
    BOOST_TEST(tree_can_be_idmapped("/run/vm/shared/rootfs", mountinfo, k618));
    BOOST_TEST(!tree_can_be_idmapped("/run/vm/shared", mountinfo, k618));       // the overlay below
    BOOST_TEST(!tree_can_be_idmapped("/run/vm/shared/vol a", mountinfo, k618)); // \040: space
    BOOST_TEST(!tree_can_be_idmapped("/run/other", mountinfo, k618));
    BOOST_TEST(!tree_can_be_idmapped("/run/other/dir", mountinfo, k618)); // held by sshfs
    // tmpfs takes an idmapping from Linux 6.3: Debian 12's 6.1, with /run on tmpfs, does not.
    const std::string tmpfs_run = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                  "25 22 0:25 / /run rw - tmpfs tmpfs rw\n"
                                  "40 25 0:25 /vm/shared /run/vm/shared rw - tmpfs tmpfs rw\n";
    BOOST_TEST(tree_can_be_idmapped("/run/vm/shared", tmpfs_run, "6.3.0"));
    BOOST_TEST(!tree_can_be_idmapped("/run/vm/shared", tmpfs_run, "6.1.0-13-amd64"));
    BOOST_TEST(!tree_can_be_idmapped("/run/vm/dir", tmpfs_run, "6.1.0-13-amd64")); // /run holds it
    BOOST_TEST(tree_can_be_idmapped("/srv/dir", tmpfs_run, "6.1.0-13-amd64"));
    BOOST_TEST(!tree_can_be_idmapped("/srv/dir", tmpfs_run, "5.10.0")); // ext4: from 5.12
    BOOST_TEST(!tree_can_be_idmapped("/srv/dir", tmpfs_run, "unknown"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
