// Unit tests of the checks every agent request passes before it is served.
#include <boost/test/unit_test.hpp>

#include "guest_agent/service/request_checks.hpp"

using namespace runvm;
using namespace runvm::agent;

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
