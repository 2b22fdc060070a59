// The settings a VM is built with: the config file, then RUNVM_*, then io.runvm.*; the rootfs
// choice and the share entry it becomes (rootfs: virtiofs).
#include <cstdio>
#include <cstdlib>

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include "shim/config/helper_paths.hpp"
#include "shim/sandbox/host_shares.hpp"
#include "shim/sandbox/runtime_settings.hpp"

using namespace runvm;
using namespace runvm::shim;
using runvm::config::RootfsMode;
using runvm::config::RuntimeConfig;

BOOST_AUTO_TEST_CASE(rootfs_mode_from_environment_and_annotation) {
    RuntimeConfig s;
    s.annotations.enabled = {"io.runvm.rootfs"}; // deny by default (docs/config.md)
    BOOST_TEST((s.rootfs == RootfsMode::automatic));
    ::setenv("RUNVM_ROOTFS", "virtiofs", 1);
    auto from_env = config::apply_environment(s);
    ::unsetenv("RUNVM_ROOTFS");
    BOOST_TEST_REQUIRE(from_env.ok());
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs));
    auto block = config::apply_annotations(s, {{"io.runvm.rootfs", "block"}});
    BOOST_TEST_REQUIRE(block.ok());
    BOOST_TEST((block->rootfs == RootfsMode::block));
    auto virtiofs = config::apply_annotations(*block, {{"io.runvm.rootfs", "virtiofs"}});
    BOOST_TEST_REQUIRE(virtiofs.ok());
    BOOST_TEST((virtiofs->rootfs == RootfsMode::virtiofs));

    auto bad = config::apply_annotations(s, {{"io.runvm.rootfs", "overlay"}});
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message() ==
               R"(annotation io.runvm.rootfs: must be auto, block or virtiofs, got "overlay")");
    ::setenv("RUNVM_ROOTFS", "9p", 1);
    auto bad_env = config::apply_environment(s);
    ::unsetenv("RUNVM_ROOTFS");
    BOOST_TEST_REQUIRE(!bad_env.ok());
    BOOST_TEST(bad_env.error().message() ==
               R"(RUNVM_ROOTFS: must be auto, block or virtiofs, got "9p")");
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs)); // a refused value changes nothing
}

BOOST_AUTO_TEST_CASE(rootfs_auto_is_virtiofs_for_root_and_block_otherwise) {
    using config::resolve_rootfs_mode;
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::automatic, 0) == RootfsMode::virtiofs));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::automatic, 1000) == RootfsMode::block));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::block, 0) == RootfsMode::block));
    BOOST_TEST((resolve_rootfs_mode(RootfsMode::virtiofs, 1000) == RootfsMode::virtiofs));
    const RootfsMode mine = ::geteuid() == 0 ? RootfsMode::virtiofs : RootfsMode::block;
    BOOST_TEST((resolve_rootfs_mode(RuntimeConfig{}.rootfs, ::geteuid()) == mine));
    RuntimeConfig enabled;
    enabled.annotations.enabled = {"io.runvm.rootfs"};
    auto s = config::apply_annotations(enabled, {{"io.runvm.rootfs", "auto"}});
    BOOST_TEST_REQUIRE(s.ok());
    BOOST_TEST((resolve_rootfs_mode(s->rootfs, ::geteuid()) == mine));
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
    auto c = config::parse_runtime_config(
        "vcpus: 2\nmemory_mib: 512\nhypervisor: qemu\nrootfs: virtiofs\n"
        "kernel: /k/vmlinuz\npaths:\n  qemu: /opt/qemu\n",
        "test.yaml");
    BOOST_TEST_REQUIRE(c.ok());
    RuntimeConfig s = *c;
    BOOST_TEST(s.vcpus == 2u);
    BOOST_TEST(s.memory_mib == 512u);
    BOOST_TEST((s.hypervisor == config::Hypervisor::qemu));
    BOOST_TEST((s.rootfs == RootfsMode::virtiofs));
    BOOST_TEST(config::guest_kernel(s) == "/k/vmlinuz");
    // unset in the file: the image's
    BOOST_TEST(config::guest_initrd(s) == config::guest_initrd(RuntimeConfig{}));
    BOOST_TEST(config::guest_initrd(s) == "/var/cache/runvm/image/initramfs.cpio");
    BOOST_TEST(s.paths.qemu == "/opt/qemu");
    // The default name keeps the helper found beside this executable.
    BOOST_TEST(config::helper_program(s.paths.broker, "runvm-broker", "broker") ==
               config::find_helper("runvm-broker", "broker"));
    ::setenv("RUNVM_VCPUS", "3", 1);
    auto env = config::apply_environment(s);
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
    auto bad = load_settings();
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find(path + ":2: vcpu: unknown key") != std::string::npos,
               bad.error().message());
    f = std::fopen(path.c_str(), "w");
    std::fputs("memory_mib: 128\n", f);
    std::fclose(f);
    auto s = load_settings();
    BOOST_TEST_REQUIRE(s.ok());
    BOOST_TEST(s->memory_mib == 128u);
    ::setenv("RUNVM_MEMORY_MIB", "1024", 1);
    auto with_env = load_settings();
    ::unsetenv("RUNVM_MEMORY_MIB");
    BOOST_TEST_REQUIRE(with_env.ok());
    BOOST_TEST(with_env->memory_mib == 1024u); // the environment after the file
    ::setenv("RUNVM_CONFIG", (path + ".missing").c_str(), 1);
    auto d = load_settings();
    BOOST_TEST_REQUIRE(d.ok()); // a missing file: the defaults
    BOOST_TEST(d->memory_mib == 256u);
    ::unsetenv("RUNVM_CONFIG");
    std::remove(path.c_str());
}
