// RuntimeSettings: the rootfs choice from RUNVM_ROOTFS and io.runvm.rootfs, and the share
// entry it becomes (rootfs: virtiofs).
#include <cstdio>
#include <cstdlib>

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include "shim/sandbox/host_shares.hpp"
#include "shim/sandbox/runtime_settings.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::config::RootfsMode;

BOOST_AUTO_TEST_CASE(rootfs_mode_from_environment_and_annotation) {
    RuntimeSettings s;
    BOOST_TEST((s.rootfs == RootfsMode::block));
    ::setenv("RUNVM_ROOTFS", "virtiofs", 1);
    auto from_env = apply_environment(s);
    ::unsetenv("RUNVM_ROOTFS");
    BOOST_TEST_REQUIRE(from_env.ok());
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs));
    BOOST_TEST_REQUIRE(apply_annotations(s, {{"io.runvm.rootfs", "block"}}).ok());
    BOOST_TEST((s.rootfs == RootfsMode::block));
    BOOST_TEST_REQUIRE(apply_annotations(s, {{"io.runvm.rootfs", "virtiofs"}}).ok());
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs));

    auto bad = apply_annotations(s, {{"io.runvm.rootfs", "overlay"}});
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message() ==
               R"(annotation io.runvm.rootfs: must be auto, block or virtiofs, got "overlay")");
    ::setenv("RUNVM_ROOTFS", "9p", 1);
    auto bad_env = apply_environment(s);
    ::unsetenv("RUNVM_ROOTFS");
    BOOST_TEST_REQUIRE(!bad_env.ok());
    BOOST_TEST(bad_env.error().message() ==
               R"(RUNVM_ROOTFS: must be auto, block or virtiofs, got "9p")");
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs)); // a refused value changes nothing
}

BOOST_AUTO_TEST_CASE(rootfs_auto_is_virtiofs_for_root_and_block_otherwise) {
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::automatic, 0) == RootfsMode::virtiofs));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::automatic, 1000) == RootfsMode::block));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::block, 0) == RootfsMode::block));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::virtiofs, 1000) == RootfsMode::virtiofs));
    const RootfsMode mine = ::geteuid() == 0 ? RootfsMode::virtiofs : RootfsMode::block;
    BOOST_TEST((default_settings().rootfs == mine));
    RuntimeSettings s;
    BOOST_TEST_REQUIRE(apply_annotations(s, {{"io.runvm.rootfs", "auto"}}).ok());
    BOOST_TEST((s.rootfs == mine));
}

BOOST_AUTO_TEST_CASE(rootfs_share_is_the_whole_writable_rootfs) {
    const HostShare s = rootfs_share("/bundles/b/rootfs");
    BOOST_TEST(s.source == "/bundles/b/rootfs");
    BOOST_TEST(s.name == kRootfsShareName);
    BOOST_TEST(s.directory);
    BOOST_TEST(s.recursive);
    BOOST_TEST(!s.readonly); // runc's order: mount points made, then "/" read-only in the guest
    BOOST_TEST(std::string(kGuestRootfsDir) == std::string(kGuestShareDir) + "/" + s.name);
}

BOOST_AUTO_TEST_CASE(config_file_keys_then_environment) {
    RuntimeSettings s = default_settings();
    const std::string found_broker = s.broker_binary;
    auto c = config::parse_runtime_config(
        "vcpus: 2\nmemory_mib: 512\nhypervisor: qemu\nrootfs: virtiofs\n"
        "kernel: /k/vmlinuz\npaths:\n  qemu: /opt/qemu\n",
        "test.yaml");
    BOOST_TEST_REQUIRE(c.ok());
    apply_config(s, *c);
    BOOST_TEST(s.vcpus == 2u);
    BOOST_TEST(s.memory_mib == 512u);
    BOOST_TEST((s.hypervisor == HypervisorKind::qemu));
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs));
    BOOST_TEST(s.kernel == "/k/vmlinuz");
    BOOST_TEST(s.initrd == default_settings().initrd); // unset in the file: the image's
    BOOST_TEST(s.qemu_binary == "/opt/qemu");
    BOOST_TEST(s.broker_binary == found_broker); // the default name keeps the found helper
    ::setenv("RUNVM_VCPUS", "3", 1);
    auto env = apply_environment(s);
    ::unsetenv("RUNVM_VCPUS");
    BOOST_TEST_REQUIRE(env.ok());
    BOOST_TEST(s.vcpus == 3u); // the environment overrides the file
}

BOOST_AUTO_TEST_CASE(config_file_from_runvm_config_and_its_errors) {
    const std::string path = "/tmp/runvm-settings-test." + std::to_string(::getpid()) + ".yaml";
    FILE* f = std::fopen(path.c_str(), "w");
    BOOST_TEST_REQUIRE(f != nullptr);
    std::fputs("memory_mib: 128\nvcpu: 2\n", f);
    std::fclose(f);
    ::setenv("RUNVM_CONFIG", path.c_str(), 1);
    RuntimeSettings s;
    auto bad = apply_config_file(s);
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find(path + ":2: vcpu: unknown key") != std::string::npos,
               bad.error().message());
    f = std::fopen(path.c_str(), "w");
    std::fputs("memory_mib: 128\n", f);
    std::fclose(f);
    BOOST_TEST_REQUIRE(apply_config_file(s).ok());
    BOOST_TEST(s.memory_mib == 128u);
    ::setenv("RUNVM_CONFIG", (path + ".missing").c_str(), 1);
    RuntimeSettings d;
    BOOST_TEST_REQUIRE(apply_config_file(d).ok()); // a missing file: the defaults
    BOOST_TEST(d.memory_mib == 256u);
    ::unsetenv("RUNVM_CONFIG");
    std::remove(path.c_str());
}
