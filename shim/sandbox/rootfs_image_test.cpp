// rootfs image: sizing, content copied (read back with debugfs), failures leave nothing.
#include <cstdio>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "shim/sandbox/rootfs_image.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm::shim;
using runvm::shim::testing::TempDir;

namespace {
std::string run(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, n);
    }
    if (f) {
        ::pclose(f);
    }
    return out;
}
} // namespace

BOOST_AUTO_TEST_CASE(image_size_is_content_plus_headroom_in_whole_mib) {
    RootfsImageOptions o;
    const uint64_t mib = 1 << 20;
    BOOST_TEST(image_size_for(0, o) == 64 * mib);
    const uint64_t big = 1000 * mib;
    const uint64_t size = image_size_for(big, o);
    BOOST_TEST(size % mib == 0);
    BOOST_TEST(size >= big + big / 4);
    BOOST_TEST(size <= big * 2);
}

namespace {
// A Boost.Test precondition: the case is reported skipped, with this reason, when e2fsprogs is
// missing.
boost::test_tools::assertion_result e2fsprogs_present(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result present(
        std::system("command -v mke2fs >/dev/null && command -v debugfs >/dev/null") == 0);
    present.message() << "e2fsprogs (mke2fs, debugfs) missing";
    return present;
}
} // namespace

BOOST_AUTO_TEST_CASE(image_holds_the_rootfs_files,
                     *boost::unit_test::precondition(e2fsprogs_present)) {
    TempDir d;
    ::mkdir((d.path + "/rootfs").c_str(), 0755);
    ::mkdir((d.path + "/rootfs/etc").c_str(), 0755);
    d.write("rootfs/etc/hostname", "runvm-test\n");
    d.write("rootfs/run.sh", "#!/bin/sh\necho hi\n", 0755);
    BOOST_REQUIRE(::symlink("etc/hostname", (d.path + "/rootfs/link").c_str()) == 0);
    const std::string image = d.path + "/rootfs.img";
    auto r = build_rootfs_image(d.path + "/rootfs", image);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    struct stat st {};
    BOOST_REQUIRE(::stat(image.c_str(), &st) == 0);
    BOOST_TEST(st.st_size % (1 << 20) == 0);
    BOOST_TEST(run("debugfs -R 'cat /etc/hostname' " + image + " 2>/dev/null") == "runvm-test\n");
    BOOST_TEST(run("debugfs -R 'stat /run.sh' " + image + " 2>/dev/null").find("Mode:  0755") !=
               std::string::npos);
    BOOST_TEST(run("debugfs -R 'stat /link' " + image + " 2>/dev/null").find("symlink") !=
               std::string::npos);
    // Owned by root inside the image whoever built it.
    BOOST_TEST(run("debugfs -R 'stat /' " + image + " 2>/dev/null").find("User:     0") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_rootfs_is_named_and_leaves_no_image) {
    TempDir d;
    const std::string image = d.path + "/rootfs.img";
    auto r = build_rootfs_image(d.path + "/nope", image);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find(d.path + "/nope") != std::string::npos);
    BOOST_TEST(::access(image.c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(failing_mke2fs_removes_the_partial_image) {
    TempDir d;
    ::mkdir((d.path + "/rootfs").c_str(), 0755);
    RootfsImageOptions o;
    o.mke2fs = d.write("fake-mke2fs", "#!/bin/sh\necho 'disk on fire' >&2\nexit 1\n", 0755);
    const std::string image = d.path + "/rootfs.img";
    auto r = build_rootfs_image(d.path + "/rootfs", image, o);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("disk on fire") != std::string::npos);
    BOOST_TEST(::access(image.c_str(), F_OK) != 0);
}
