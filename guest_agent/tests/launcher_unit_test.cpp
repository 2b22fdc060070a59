// Unit tests of the launcher's pure parts: option tables, path joins, PATH lookup, cgroup
// conversions, seccomp and plan errors, module manifests, request checks.
#define BOOST_TEST_MODULE agent_launcher_unit
#include <cstdlib>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/exec_lookup.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/launcher/mount_options.hpp"
#include "guest_agent/pid1/initramfs_root.hpp"
#include "guest_agent/pid1/modules.hpp"
#include "guest_agent/pid1/reaper.hpp"
#include "guest_agent/service/request_checks.hpp"
#include "oci/spec_json.hpp"

using namespace runvm;
using namespace runvm::agent;

namespace {
std::string temp_dir() {
    char tmpl[] = "/tmp/agent-unit-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}

oci::Spec minimal_spec() {
    auto s = oci::parse_spec(R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/",
        "user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},
        "linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}})");
    BOOST_REQUIRE(s.ok());
    return *s;
}
} // namespace

BOOST_AUTO_TEST_CASE(mount_options_follow_runc) {
    auto o = parse_mount_options({"nosuid", "ro", "rw", "rbind", "rslave", "size=1m", "mode=755"});
    BOOST_TEST((o.flags & MS_NOSUID) != 0u);
    BOOST_TEST((o.flags & MS_RDONLY) == 0u); // "rw" after "ro" clears it
    BOOST_TEST(o.is_bind());
    BOOST_TEST((o.flags & MS_REC) != 0u);
    BOOST_REQUIRE_EQUAL(o.propagation.size(), 1u);
    BOOST_TEST(o.propagation[0] == static_cast<unsigned long>(MS_SLAVE | MS_REC));
    BOOST_TEST(o.data == "size=1m,mode=755");
    BOOST_TEST(!parse_propagation("sideways").ok());
    BOOST_TEST(*parse_propagation("rprivate") == static_cast<unsigned long>(MS_PRIVATE | MS_REC));
}

BOOST_AUTO_TEST_CASE(secure_join_stays_in_root) {
    const std::string root = temp_dir();
    BOOST_REQUIRE(::mkdir((root + "/etc").c_str(), 0755) == 0);
    BOOST_REQUIRE(::symlink("/../../../../etc", (root + "/escape").c_str()) == 0);
    BOOST_REQUIRE(::symlink("../..", (root + "/etc/up").c_str()) == 0);
    BOOST_REQUIRE(::symlink("loop", (root + "/loop").c_str()) == 0);
    BOOST_TEST(*secure_join(root, "/escape/passwd") == root + "/etc/passwd");
    BOOST_TEST(*secure_join(root, "/etc/up/etc/passwd") ==
               root + "/etc/passwd"); // up: "../.." stops at root
    BOOST_TEST(*secure_join(root, "../../a/./b") == root + "/a/b");
    BOOST_TEST(!secure_join(root, "/loop/x").ok());
    BOOST_TEST(clean_path("a//b/./c/../d") == "/a/b/d");
    BOOST_TEST(clean_path("/") == "/");
    std::system(("rm -rf " + root).c_str());
}

BOOST_AUTO_TEST_CASE(look_path_messages_match_runc) {
    auto missing = look_path("no-such-binary-xyz", "/usr/bin:/bin");
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().message() ==
               "exec: \"no-such-binary-xyz\": executable file not found in $PATH");
    BOOST_TEST(*look_path("sh", "/nonexistent:/bin") == "/bin/sh");
    auto abs = look_path("/no/such", "");
    BOOST_REQUIRE(!abs.ok());
    BOOST_TEST(abs.error().message() ==
               "exec: \"/no/such\": stat /no/such: no such file or directory");
    BOOST_TEST(env_value({"A=1", "PATH=/x", "PATHX=2"}, "PATH") == "/x");
}

BOOST_AUTO_TEST_CASE(cgroup_v2_settings_convert_v1_fields) {
    oci::Resources r;
    r.memory = oci::MemoryResources{};
    r.memory->limit = 512 * 1024 * 1024;
    r.cpu = oci::CpuResources{};
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.pids = oci::PidsResources{};
    r.pids->limit = 64;
    auto s = cgroup_v2_settings(r);
    BOOST_REQUIRE(s.ok());
    std::map<std::string, std::string> m(s->begin(), s->end());
    BOOST_TEST(m["memory.max"] == "536870912");
    BOOST_TEST(m["cpu.weight"] == "39"); // runc: 1 + ((1024 - 2) * 9999) / 262142
    BOOST_TEST(m["cpu.max"] == "50000 100000");
    BOOST_TEST(m["pids.max"] == "64");
    r.cpu->shares = 1;
    auto bad = cgroup_v2_settings(r);
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find("linux.resources.cpu.shares") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plan_errors_name_the_field) {
    auto spec = minimal_spec();
    spec.process->capabilities = oci::Capabilities{};
    spec.process->capabilities->bounding = std::vector<std::string>{"CAP_CHOWN", "CAP_BOGUS"};
    auto p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("process.capabilities.bounding") != std::string::npos);

    spec = minimal_spec();
    spec.linux->seccomp = oci::Seccomp{};
    spec.linux->seccomp->default_action = "SCMP_ACT_ALLOW";
    spec.linux->seccomp->syscalls = std::vector<oci::SeccompSyscall>{{}};
    (*spec.linux->seccomp->syscalls)[0].names = {"mkdir"};
    (*spec.linux->seccomp->syscalls)[0].action = "SCMP_ACT_EXPLODE";
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("linux.seccomp.syscalls[0].action") != std::string::npos);

    spec = minimal_spec();
    spec.hostname = "h";
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("UTS namespace") != std::string::npos);

    spec = minimal_spec();
    spec.linux->namespaces->push_back(oci::Namespace{"user", std::nullopt, {}});
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("linux.uidMappings") != std::string::npos);

    spec = minimal_spec();
    spec.process->rlimits = std::vector<oci::Rlimit>{{"RLIMIT_NOPE", 1, 1, {}}};
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("process.rlimits[0].type") != std::string::npos);

    BOOST_TEST(plan_launch("c", "/b", "/b/rootfs", minimal_spec()).ok());
}

BOOST_AUTO_TEST_CASE(module_manifest_parsing) {
    auto m = parse_module_manifest("# virtio first\n/lib/modules/virtio_ring.ko\n\n"
                                   "/lib/modules/vsock.ko  a=1 b=2 # tail\n");
    BOOST_REQUIRE(m.ok());
    BOOST_REQUIRE_EQUAL(m->size(), 2u);
    BOOST_TEST((*m)[1].path == "/lib/modules/vsock.ko");
    BOOST_TEST((*m)[1].params == "a=1 b=2");
    auto bad = parse_module_manifest("/ok.ko\nrelative.ko\n");
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find("line 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(initramfs_root_told_by_its_filesystem_type) {
    BOOST_TEST(initial_root_is_initramfs(RAMFS_MAGIC));
    BOOST_TEST(initial_root_is_initramfs(TMPFS_MAGIC));
    BOOST_TEST(!initial_root_is_initramfs(EXT4_SUPER_MAGIC));
    BOOST_TEST(!initial_root_is_initramfs(FUSE_SUPER_MAGIC)); // virtio-fs as root
}

BOOST_AUTO_TEST_CASE(request_checks_refuse_bad_input) {
    BOOST_TEST(!check_id("../x", "container_id", false).ok());
    BOOST_TEST(!check_id("", "container_id", false).ok());
    BOOST_TEST(check_id("", "exec_id", true).ok());
    BOOST_TEST(check_id("abc-1.2_x", "container_id", false).ok());
    runvm::agent::v1::CreateContainerRequest req;
    req.set_container_id("c1");
    req.mutable_rootfs()->set_directory("/rootfs");
    req.set_oci_spec_json(R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/",
        "user":{"uid":"zero","gid":0}}})");
    auto r = check_create(req);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message().find("process.user.uid") != std::string::npos);
    req.mutable_rootfs()->set_directory("relative");
    BOOST_TEST(!check_create(req).ok());
    runvm::agent::v1::SharedFs fs;
    fs.set_tag("runvm");
    fs.set_mount_point("/run/runvm/shared");
    BOOST_TEST(check_shared_fs(fs).ok());
    for (const char* bad : {"", "relative", "/", "/run/../etc", "/run/x/"}) {
        fs.set_mount_point(bad);
        BOOST_TEST(!check_shared_fs(fs).ok(), "mount point " << bad);
    }
    fs.set_mount_point("/run/runvm/shared");
    for (const std::string& bad : {std::string(), std::string(37, 't'), std::string("a\0b", 3)}) {
        fs.set_tag(bad);
        BOOST_TEST(!check_shared_fs(fs).ok());
    }
    req.mutable_rootfs()->set_directory("/rootfs");
    *req.mutable_shared_fs() = fs; // a bad shared_fs fails CreateContainer's checks
    auto bad_fs = check_create(req);
    BOOST_REQUIRE(!bad_fs.ok());
    BOOST_TEST(bad_fs.error().message().find("shared_fs.tag") != std::string::npos);
    runvm::agent::v1::UpdateContainerRequest up;
    up.set_container_id("c1");
    up.set_resources_json(R"({"pids":{"limit":"many"}})");
    auto u = check_update(up);
    BOOST_REQUIRE(!u.ok());
    BOOST_TEST(u.error().message().find("pids.limit") != std::string::npos);
    BOOST_TEST(!check_signal(0).ok());
    BOOST_TEST(check_signal(9).ok());
}

BOOST_AUTO_TEST_CASE(shell_exit_status_convention) {
    BOOST_TEST(shell_exit_status(3 << 8) == 3);
    BOOST_TEST(shell_exit_status(9) == 137); // killed by SIGKILL
    BOOST_TEST(shell_exit_status(15) == 143);
}
