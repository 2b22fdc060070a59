// The host cgroup: layouts read from mountinfo, cgroupsPath resolved as runc resolves it
// (cgroupfs and systemd forms, ".." refused), directories made and limits written on a
// scratch tree, and only what was made removed.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "shim/container/host_cgroup.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm::shim;
using runvm::shim::testing::slurp;
using runvm::shim::testing::TempDir;

namespace {
// This machine's hybrid layout, trimmed.
constexpr const char* hybrid_mountinfo =
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,xattr,cpu,cpuacct\n"
    "34 30 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "36 25 0:5 / /proc rw - proc proc rw\n";
constexpr const char* hybrid_self = "9:name=systemd:/\n4:memory:/process_api/abc\n"
                                    "3:cpu,cpuacct:/x\n1:cpu:/\n0::/\n";
} // namespace

BOOST_AUTO_TEST_CASE(hybrid_layout_lists_each_hierarchy_with_its_controllers) {
    const CgroupLayout l = parse_cgroup_layout(hybrid_mountinfo, hybrid_self);
    BOOST_TEST(!l.v2);
    BOOST_REQUIRE_EQUAL(l.hierarchies.size(), 5u);
    BOOST_TEST(l.hierarchies[0].mount_point == "/sys/fs/cgroup/cpu");
    BOOST_TEST(l.hierarchies[0].own_path == "/");
    BOOST_TEST(l.hierarchies[1].has("memory"));
    BOOST_TEST(l.hierarchies[1].own_path == "/process_api/abc");
    // xattr is a mount flag, not a controller.
    BOOST_TEST(l.hierarchies[2].controllers.size() == 2u);
    BOOST_TEST(l.hierarchies[2].own_path == "/x");
    BOOST_TEST(l.hierarchies[3].has("name=systemd"));
    BOOST_TEST(l.hierarchies[4].unified);
    BOOST_TEST(l.hierarchies[4].own_path == "/");
}

BOOST_AUTO_TEST_CASE(v2_layout_is_the_one_hierarchy_at_sys_fs_cgroup) {
    const CgroupLayout l = parse_cgroup_layout(
        "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
        "0::/user.slice/session-1.scope\n");
    BOOST_TEST(l.v2);
    BOOST_REQUIRE_EQUAL(l.hierarchies.size(), 1u);
    BOOST_TEST(l.hierarchies[0].unified);
    BOOST_TEST(l.hierarchies[0].own_path == "/user.slice/session-1.scope");
}

BOOST_AUTO_TEST_CASE(cgroupfs_paths_follow_runc) {
    auto abs = resolve_cgroups_path(std::string("/docker/abc"), false, "abc");
    BOOST_REQUIRE(abs.ok());
    BOOST_TEST(abs->path == "/docker/abc");
    BOOST_TEST(!abs->relative);
    auto rel = resolve_cgroups_path(std::string("pods/x"), false, "x");
    BOOST_REQUIRE(rel.ok());
    BOOST_TEST(rel->relative);
    auto none = resolve_cgroups_path(std::nullopt, false, "c1");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(none->path == "c1");
    BOOST_TEST(none->relative);
    for (const char* bad : {"/docker/../../etc", "../x", "/a/.."}) {
        auto r = resolve_cgroups_path(std::string(bad), false, "c");
        BOOST_REQUIRE_MESSAGE(!r.ok(), bad);
        BOOST_TEST(r.error().message().find("linux.cgroupsPath") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(systemd_paths_map_to_the_scope_systemd_makes) {
    auto path = [](const char* given, const char* id = "abc") {
        auto r = resolve_cgroups_path(std::string(given), true, id);
        BOOST_REQUIRE_MESSAGE(r.ok(), given << ": " << (r.ok() ? "" : r.error().message()));
        BOOST_TEST(!r->relative);
        return r->path;
    };
    BOOST_TEST(path("system.slice:docker:abc") == "/system.slice/docker-abc.scope");
    BOOST_TEST(path("user-1000.slice:runc:foo") == "/user.slice/user-1000.slice/runc-foo.scope");
    BOOST_TEST(path("kubepods-besteffort-pod12.slice:cri-containerd:c") ==
               "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/"
               "cri-containerd-c.scope");
    BOOST_TEST(path(":runc:x") == "/system.slice/runc-x.scope");
    BOOST_TEST(path("-.slice:p:n") == "/p-n.scope");
    BOOST_TEST(path("system.slice:p:sub.slice") == "/system.slice/sub.slice");
    auto dflt = resolve_cgroups_path(std::nullopt, true, "c9");
    BOOST_REQUIRE(dflt.ok());
    BOOST_TEST(dflt->path == "/system.slice/runvm-c9.scope");
    for (const char* bad :
         {"/docker/abc", "a:b", "system.slice:p:../x", "notaslice:p:n", "a--b.slice:p:n"}) {
        BOOST_TEST(!resolve_cgroups_path(std::string(bad), true, "c").ok(), bad);
    }
}

BOOST_AUTO_TEST_CASE(the_systemd_form_is_told_apart) {
    BOOST_TEST(is_systemd_cgroups_path("kubepods-besteffort-pod1.slice:cri-containerd:abc"));
    BOOST_TEST(is_systemd_cgroups_path(":runc:x"));
    BOOST_TEST(!is_systemd_cgroups_path("/kubepods/besteffort/pod1/abc"));
    BOOST_TEST(!is_systemd_cgroups_path("/a:b:c"));
    BOOST_TEST(!is_systemd_cgroups_path("a:b"));
    BOOST_TEST(!is_systemd_cgroups_path(""));
}

BOOST_AUTO_TEST_CASE(create_makes_one_dir_per_hierarchy_and_removes_only_its_own) {
    TempDir t;
    CgroupLayout layout;
    for (const char* name : {"memory", "cpu", "unified"}) {
        ::mkdir((t.path + "/" + name).c_str(), 0755);
        ::mkdir((t.path + "/" + name + "/own").c_str(), 0755);
        CgroupHierarchy h;
        h.mount_point = t.path + "/" + name;
        h.own_path = "/own";
        if (std::string(name) == "unified") {
            h.unified = true;
        } else {
            h.controllers = {name};
        }
        layout.hierarchies.push_back(h);
    }
    ::mkdir((t.path + "/memory/docker").c_str(), 0755); // a parent that exists already
    auto cg = HostCgroup::create(layout, {"/docker/c1", false});
    BOOST_REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? std::string() : cg.error().str()));
    BOOST_REQUIRE_EQUAL(cg->dirs().size(), 3u);
    BOOST_TEST(cg->dirs()[0] == t.path + "/memory/docker/c1");
    BOOST_TEST(cg->made().size() == 3u); // the leaves, not /cpu/docker it also made
    // Limits go to the files of each controller's hierarchy (made here: no kernel behind).
    t.write("memory/docker/c1/memory.limit_in_bytes", "");
    t.write("cpu/docker/c1/cpu.cfs_period_us", "");
    t.write("cpu/docker/c1/cpu.cfs_quota_us", "");
    HostCgroupLimits limits;
    limits.memory_bytes = 1u << 30;
    limits.cpu_quota_us = 150000;
    BOOST_REQUIRE(cg->set_memory(limits).ok());
    BOOST_REQUIRE(cg->set_cpu(limits).ok());
    BOOST_TEST(slurp(t.path + "/memory/docker/c1/memory.limit_in_bytes") == "1073741824");
    BOOST_TEST(slurp(t.path + "/cpu/docker/c1/cpu.cfs_quota_us") == "150000");
    BOOST_TEST(slurp(t.path + "/cpu/docker/c1/cpu.cfs_period_us") == "100000");
    // A relative path sits under the caller's own cgroup.
    auto rel = HostCgroup::create(layout, {"pod/c2", true});
    BOOST_REQUIRE(rel.ok());
    BOOST_TEST(rel->dirs()[1] == t.path + "/cpu/own/pod/c2");
    // The hierarchy's root is no container's cgroup.
    BOOST_TEST(!HostCgroup::create(layout, {"/", false}).ok());
}

// A pooled VM's container passes its cgroup's dirs to the VM's monitor, which sets its
// limits there: each hierarchy's directory below its mount point, nothing made or removed.
BOOST_AUTO_TEST_CASE(existing_takes_one_dir_below_each_mount_point) {
    TempDir t;
    CgroupLayout layout;
    for (const char* name : {"memory", "cpu"}) {
        ::mkdir((t.path + "/" + name).c_str(), 0755);
        CgroupHierarchy h;
        h.mount_point = t.path + "/" + name;
        h.own_path = "/";
        h.controllers = {name};
        layout.hierarchies.push_back(h);
    }
    auto made = HostCgroup::create(layout, {"/pool/c1", false});
    BOOST_REQUIRE(made.ok());
    auto cg = HostCgroup::existing(layout, made->dirs());
    BOOST_REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? std::string() : cg.error().str()));
    BOOST_TEST(cg->dirs() == made->dirs());
    BOOST_TEST(cg->made().empty());
    t.write("cpu/pool/c1/cpu.cfs_period_us", "");
    t.write("cpu/pool/c1/cpu.cfs_quota_us", "");
    HostCgroupLimits limits;
    limits.cpu_quota_us = 50000;
    BOOST_REQUIRE(cg->set_cpu(limits).ok());
    BOOST_TEST(slurp(t.path + "/cpu/pool/c1/cpu.cfs_quota_us") == "50000");
    // A hierarchy without its directory, one that climbs out, the mount point itself.
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{t.path + "/memory/pool/c1"},
          std::vector<std::string>{t.path + "/memory/pool/c1", t.path + "/cpu/../etc"},
          std::vector<std::string>{t.path + "/memory/pool/c1", t.path + "/cpu/"}}) {
        auto r = HostCgroup::existing(layout, bad);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("no directory below " + t.path + "/cpu/") !=
                   std::string::npos);
    }
}
