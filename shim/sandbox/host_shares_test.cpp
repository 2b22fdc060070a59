// host_shares: reading mount points out of mountinfo (the mounts themselves need root:
// host_shares_mount_test).
#include <boost/test/unit_test.hpp>

#include "shim/sandbox/host_shares.hpp"

using namespace runvm::shim;

BOOST_AUTO_TEST_CASE(mount_points_under_a_directory_in_listed_order) {
    const std::string info =
        "22 1 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
        "30 22 0:21 /x/shared /run/runvm-vm/ab/shared rw - tmpfs tmpfs rw\n"
        "31 30 8:1 /etc/hosts /run/runvm-vm/ab/shared/0 rw,nosuid - ext4 /dev/sda1 rw\n"
        "32 30 8:1 /srv/my\\040vol /run/runvm-vm/ab/shared/1 ro - ext4 /dev/sda1 rw\n"
        "33 22 0:21 / /run/runvm-vm/ab/shared2 rw - tmpfs tmpfs rw\n"
        "34 22 0:21 / /run/runvm-vm/ab/shared\\040x rw - tmpfs tmpfs rw\n"
        "garbage\n";
    const auto points = mount_points_under(info, "/run/runvm-vm/ab/shared");
    BOOST_REQUIRE(points.size() == 3u);
    BOOST_TEST(points[0] == "/run/runvm-vm/ab/shared");
    BOOST_TEST(points[1] == "/run/runvm-vm/ab/shared/0");
    BOOST_TEST(points[2] == "/run/runvm-vm/ab/shared/1");
    const auto spaced = mount_points_under(info, "/run/runvm-vm/ab/shared x");
    BOOST_REQUIRE(spaced.size() == 1u);
    BOOST_TEST(mount_points_under(info, "/nowhere").empty());
}

BOOST_AUTO_TEST_CASE(release_of_a_missing_dir_is_ok_and_relative_dirs_are_refused) {
    BOOST_TEST(release_host_shares("/tmp/runvm-no-such-share-dir-for-test").ok());
    auto rel = release_host_shares("relative/dir");
    BOOST_REQUIRE(!rel.ok());
    BOOST_TEST(rel.error().code() == EINVAL);
}
