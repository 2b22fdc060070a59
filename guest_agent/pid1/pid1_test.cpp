// Unit tests of PID 1's pure parts: the module manifest, how the initial root is told
// apart, and the shell's exit status convention the reaper reports.
#include <boost/test/unit_test.hpp>
#include <linux/magic.h>

#include "guest_agent/pid1/initramfs_root.hpp"
#include "guest_agent/pid1/modules.hpp"
#include "guest_agent/pid1/reaper.hpp"

using namespace runvm;
using namespace runvm::agent;

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

BOOST_AUTO_TEST_CASE(shell_exit_status_convention) {
    BOOST_TEST(shell_exit_status(3 << 8) == 3);
    BOOST_TEST(shell_exit_status(9) == 137); // killed by SIGKILL
    BOOST_TEST(shell_exit_status(15) == 143);
}
