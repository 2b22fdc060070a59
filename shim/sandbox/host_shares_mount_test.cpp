// HostShareDir with real bind mounts: what the broker will serve, read-only where asked,
// nothing left mounted or on disk after release or after a crash's leftovers. Needs root
// (mount(2)); exits 77 without it.
#define BOOST_TEST_MODULE host_shares_mount
#define BOOST_TEST_NO_MAIN
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.hpp"
#include "shim/sandbox/host_shares.hpp"
#include "shim/sandbox/mount_namespace.hpp"
#include "shim/sandbox/sandbox.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::shim::testing::slurp;
using runvm::shim::testing::TempDir;

namespace {

size_t mounts_at_or_under(const std::string& dir) {
    auto info = read_file("/proc/self/mountinfo");
    return info ? mount_points_under(*info, dir).size() : 0;
}

bool exists(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

struct Sources {
    TempDir t;
    std::string hosts, vol, ro_vol;
    Sources() {
        hosts = t.write("hosts", "10.0.0.7 web\n");
        vol = t.path + "/vol";
        ro_vol = t.path + "/ro";
        ::mkdir(vol.c_str(), 0755);
        ::mkdir(ro_vol.c_str(), 0755);
        t.write("vol/a", "volume a\n");
        t.write("ro/b", "read-only b\n");
    }
    std::vector<HostShare> shares() const {
        return {{hosts, "0", false, false, false},
                {vol, "1", true, false, true},
                {ro_vol, "2", true, true, false}};
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(shares_are_bound_read_only_where_asked_and_released) {
    Sources s;
    const std::string dir = s.t.path + "/share";
    {
        auto d = HostShareDir::create(dir, s.shares());
        BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().str()));
        BOOST_TEST(mounts_at_or_under(dir) == 4u); // the private self bind and three shares
        BOOST_TEST(slurp(dir + "/0") == "10.0.0.7 web\n");
        BOOST_TEST(slurp(dir + "/1/a") == "volume a\n");
        BOOST_TEST(slurp(dir + "/2/b") == "read-only b\n");
        std::ofstream(dir + "/1/new") << "from the share\n";
        BOOST_TEST(slurp(s.vol + "/new") == "from the share\n");
        const int fd = ::open((dir + "/2/c").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        BOOST_TEST(fd < 0);
        BOOST_TEST(errno == EROFS);
        // A host edit of a shared file is seen through the share (the same inode).
        std::ofstream(s.hosts, std::ios::app) << "10.0.0.8 db\n";
        BOOST_TEST(slurp(dir + "/0") == "10.0.0.7 web\n10.0.0.8 db\n");
        // The share's own mount is private: nothing propagates to peer namespaces.
        auto info = read_file("/proc/self/mountinfo");
        BOOST_REQUIRE(info.ok());
        std::istringstream lines(*info);
        int seen = 0;
        for (std::string line; std::getline(lines, line);) {
            if (line.find(" " + dir + " ") != std::string::npos) {
                ++seen;
                BOOST_TEST(line.find(" shared:") == std::string::npos, line);
            }
        }
        BOOST_TEST(seen == 1);
    }
    BOOST_TEST(mounts_at_or_under(dir) == 0u);
    BOOST_TEST(!exists(dir));
    // The sources keep their data.
    BOOST_TEST(slurp(s.vol + "/a") == "volume a\n");
    BOOST_TEST(slurp(s.vol + "/new") == "from the share\n");
    BOOST_TEST(slurp(s.ro_vol + "/b") == "read-only b\n");
    BOOST_TEST(!exists(s.ro_vol + "/c"));
}

BOOST_AUTO_TEST_CASE(leftovers_of_a_crash_are_cleared_without_touching_data) {
    Sources s;
    const std::string dir = s.t.path + "/share";
    // What a killed monitor leaves: the share dir with its mounts (one stacked twice).
    BOOST_REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    BOOST_REQUIRE(::mkdir((dir + "/7").c_str(), 0700) == 0);
    BOOST_REQUIRE(::mount(s.vol.c_str(), (dir + "/7").c_str(), nullptr, MS_BIND, nullptr) == 0);
    BOOST_REQUIRE(::mount(s.ro_vol.c_str(), (dir + "/7").c_str(), nullptr, MS_BIND, nullptr) == 0);
    BOOST_REQUIRE(mounts_at_or_under(dir) == 2u);
    {
        // The next create over the same dir starts clean.
        auto d = HostShareDir::create(dir, s.shares());
        BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().str()));
        BOOST_TEST(!exists(dir + "/7"));
        BOOST_TEST(mounts_at_or_under(dir) == 4u);
        // `delete --force` after a crash: release by path while the mounts are there.
        BOOST_TEST(release_host_shares(dir).ok());
        BOOST_TEST(mounts_at_or_under(dir) == 0u);
        BOOST_TEST(!exists(dir));
    } // the drop's own release finds nothing
    BOOST_TEST(slurp(s.vol + "/a") == "volume a\n");
    BOOST_TEST(slurp(s.ro_vol + "/b") == "read-only b\n");
}

BOOST_AUTO_TEST_CASE(a_failed_bind_undoes_the_ones_before) {
    Sources s;
    const std::string dir = s.t.path + "/share";
    auto shares = s.shares();
    shares.push_back({s.t.path + "/missing", "3", true, false, false});
    auto d = HostShareDir::create(dir, shares);
    BOOST_REQUIRE(!d.ok());
    BOOST_TEST(d.error().code() == ENOENT);
    BOOST_TEST(d.error().str().find("/missing") != std::string::npos);
    BOOST_TEST(mounts_at_or_under(dir) == 0u);
    BOOST_TEST(!exists(dir));
    auto bad = HostShareDir::create(dir, {{s.hosts, "../x", false, false, false}});
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().code() == EINVAL);
    BOOST_TEST(!exists(dir));
}

BOOST_AUTO_TEST_CASE(a_sandbox_that_fails_to_boot_leaves_no_share_mounted) {
    Sources s;
    SandboxOptions o;
    o.id = "fs";
    o.run_dir = s.t.path + "/vm";
    o.settings.kernel = s.t.path + "/missing-vmlinuz";
    o.settings.initrd = s.t.write("initrd", "x");
    o.settings.hypervisor = config::Hypervisor::qemu;
    o.settings.paths.broker = "/bin/false";
    o.shares = s.shares();
    auto sb = Sandbox::boot(o);
    BOOST_REQUIRE(!sb.ok());
    BOOST_TEST(sb.error().str().find("missing-vmlinuz") != std::string::npos);
    BOOST_TEST(mounts_at_or_under(o.run_dir) == 0u);
    BOOST_TEST(!exists(o.run_dir));
    BOOST_TEST(slurp(s.vol + "/a") == "volume a\n");
}

// A pod member's mounts (mount_namespace.hpp): a detached copy of a host directory is
// attached in another process's private mount namespace, shows there and not here, is
// read-only where asked, and goes again on detach.
BOOST_AUTO_TEST_CASE(detached_trees_attach_in_another_mount_namespace_only) {
    Sources src;
    TempDir share;
    const std::string target = share.path + "/rootfs";
    BOOST_REQUIRE(::mkdir(target.c_str(), 0700) == 0);
    int ready[2];
    BOOST_REQUIRE(::pipe(ready) == 0);
    const pid_t peer = ::fork();
    BOOST_REQUIRE(peer >= 0);
    if (peer == 0) { // stands in for the broker: a private mount namespace of its own
        char ok = ::unshare(CLONE_NEWNS) == 0 &&
                          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0
                      ? '1'
                      : '0';
        [[maybe_unused]] ssize_t n = ::write(ready[1], &ok, 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char ok = 0;
    BOOST_REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    auto peer_mounts = [&] {
        auto info = read_file("/proc/" + std::to_string(peer) + "/mountinfo");
        return info ? mount_points_under(*info, target).size() : 0;
    };
    BOOST_CHECK(ok == '1');
    auto tree = clone_mount_tree(src.ro_vol, false, true);
    BOOST_REQUIRE_MESSAGE(tree.ok(), (tree.ok() ? "" : tree.error().str()));
    auto attached = attach_in_mount_namespace(peer, {{tree->get(), target}});
    BOOST_CHECK_MESSAGE(attached.ok(), (attached.ok() ? "" : attached.error().str()));
    BOOST_TEST(peer_mounts() == 1u);
    BOOST_TEST(mounts_at_or_under(target) == 0u); // nothing shows on the host
    const std::string seen = slurp("/proc/" + std::to_string(peer) + "/root" + target + "/b");
    BOOST_TEST(seen == "read-only b\n");
    const std::string write_path = "/proc/" + std::to_string(peer) + "/root" + target + "/new";
    BOOST_TEST(::open(write_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0);
    BOOST_TEST(errno == EROFS);
    // A missing target is named in the error.
    auto bad = clone_mount_tree(src.vol, true, false);
    BOOST_REQUIRE(bad.ok());
    auto missing = attach_in_mount_namespace(peer, {{bad->get(), share.path + "/nope"}});
    BOOST_TEST(!missing.ok());
    if (!missing.ok()) {
        BOOST_TEST(missing.error().str().find(share.path + "/nope") != std::string::npos);
    }
    auto detached = detach_in_mount_namespace(peer, {target, share.path + "/nope"});
    BOOST_CHECK_MESSAGE(detached.ok(), (detached.ok() ? "" : detached.error().str()));
    BOOST_TEST(peer_mounts() == 0u);
    ::kill(peer, SIGKILL);
    ::waitpid(peer, nullptr, 0);
}

int main(int argc, char* argv[]) {
    // mount(2) needs CAP_SYS_ADMIN: probe with a tmpfs on a scratch directory.
    TempDir probe;
    if (::mount("none", probe.path.c_str(), "tmpfs", 0, "size=4k") != 0) {
        std::printf("skipped: mount(2) not permitted here (%s)\n", std::strerror(errno));
        return 77;
    }
    ::umount2(probe.path.c_str(), MNT_DETACH);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
