// BrokerProcess's command lines: the broker's own, and runvm-jail's around it when jailed.
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "shim/sandbox/broker_process.hpp"

namespace runvm::shim {

namespace {

BrokerConfig fs_and_blk() {
    BrokerConfig c;
    c.binary = "/usr/libexec/runvm-broker";
    c.vsock_socket = "/run/vm/jail/vsock.vhost";
    c.vsock_uds = "/run/vm/jail/vsock";
    c.blk_socket = "/run/vm/jail/blk.vhost";
    c.blk_image = "/run/vm/rootfs.img";
    c.blk_readonly = true;
    c.fs_socket = "/run/vm/jail/fs.vhost";
    c.fs_dir = "/run/vm/shared";
    c.fs_tag = "runvm";
    c.net.push_back({"/run/vm/jail/net0.vhost", 7, "", 0});
    return c;
}

bool has(const std::vector<std::string>& argv, const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(broker_process)

BOOST_AUTO_TEST_CASE(unjailed_the_broker_makes_its_own_namespace) {
    const auto argv = BrokerProcess::command(fs_and_blk());
    BOOST_TEST(argv.front() == "/usr/libexec/runvm-broker");
    BOOST_TEST(!has(argv, "--jailed"));
    BOOST_TEST(has(argv, "/run/vm/jail/fs.vhost,dir=/run/vm/shared,tag=runvm,allow_setid=rootfs"));
    BOOST_TEST(has(argv, "/run/vm/jail/net0.vhost,fd=7"));
}

BOOST_AUTO_TEST_CASE(a_spare_link_takes_its_tap_later_over_a_socket) {
    BrokerConfig c = fs_and_blk();
    c.net.push_back({"/run/vm/jail/spare0.vhost", 9, "02:72:76:00:00:01", 0, true});
    const auto argv = BrokerProcess::command(c);
    BOOST_TEST(has(argv, "/run/vm/jail/spare0.vhost,tap_socket=9,mac=02:72:76:00:00:01"));
}

BOOST_AUTO_TEST_CASE(jailed_it_runs_in_runvm_jail_with_a_user_namespace) {
    BrokerConfig c = fs_and_blk();
    c.jail = JailDirs{"/run/vm/jail", "/run/vm/jail-root", {1879113730, 1879113730, {}}, {}};
    c.jail_user = "runvm";
    const auto broker_argv = BrokerProcess::command(c);
    BOOST_TEST(broker_argv.back() == "--jailed");
    const jail::JailSpec spec = BrokerProcess::jail_spec(c, broker_argv);
    BOOST_TEST(spec.root == "/run/vm/jail-root");
    BOOST_TEST(spec.user == "runvm");
    // The VM's own ids, not the jail user's: no two VMs share a uid.
    BOOST_TEST_REQUIRE(spec.ids.has_value());
    BOOST_TEST(spec.ids->first == 1879113730u);
    BOOST_TEST(spec.ids->second == 1879113730u);
    BOOST_TEST(spec.userns);
    BOOST_TEST(!spec.userns_host_ids);
    BOOST_TEST(
        (spec.keep_caps == std::vector<std::string>{"chown", "dac_override", "fowner", "fsetid"}));
    const std::vector<jail::BindSpec> binds = {{"/run/vm/jail", false},
                                               {"/run/vm/rootfs.img", true}};
    BOOST_TEST((spec.binds == binds));
    BOOST_TEST((spec.idmap_binds == std::vector<std::string>{"/run/vm/shared"}));
    BOOST_TEST(spec.proc);
    BOOST_TEST((spec.keep_fds == std::vector<int>{7}));
    BOOST_TEST(jail::seccomp_profile_name(spec.seccomp) == "broker");
    BOOST_TEST((spec.program == broker_argv));
    // The shim writes and the jailer reads one command line.
    const auto argv = jail::jail_argv("/usr/libexec/runvm-jail", spec);
    auto back = jail::parse_jail_args(std::vector<std::string>(argv.begin() + 1, argv.end()));
    BOOST_TEST_REQUIRE(back.ok());
    BOOST_TEST((*back == spec));
}

// An overlayfs rootfs (Docker, containerd) or a pod's share: the same binds with host ids.
BOOST_AUTO_TEST_CASE(jailed_with_host_ids_when_the_share_cannot_be_idmapped) {
    BrokerConfig c = fs_and_blk();
    c.jail = JailDirs{"/run/vm/jail", "/run/vm/jail-root", {1879113730, 1879113730, {}}, {}};
    c.fs_host_ids = true;
    const jail::JailSpec spec = BrokerProcess::jail_spec(c, BrokerProcess::command(c));
    BOOST_TEST(spec.userns);
    BOOST_TEST(spec.userns_host_ids);
    BOOST_TEST((spec.idmap_binds == std::vector<std::string>{"/run/vm/shared"}));
    const auto argv = jail::jail_argv("/usr/libexec/runvm-jail", spec);
    BOOST_TEST(std::count(argv.begin(), argv.end(), "--userns-host-ids") == 1);
    // With host ids it is not the namespace's root: the VM's uid, with 4 capabilities of its own
    // user namespace kept across the exec.
    BOOST_TEST(std::count(argv.begin(), argv.end(), "1879113730:1879113730") == 1);
    BOOST_TEST(std::count(argv.begin(), argv.end(), "--keep-cap") == 4);
}

BOOST_AUTO_TEST_CASE(jailed_without_files_or_image_binds_only_its_directory) {
    BrokerConfig c;
    c.vsock_socket = "/run/vm/jail/vsock.vhost";
    c.vsock_uds = "/run/vm/jail/vsock";
    c.jail = JailDirs{"/run/vm/jail", "/run/vm/jail-root", {1879113730, 1879113730, {}}, {}};
    const jail::JailSpec spec = BrokerProcess::jail_spec(c, BrokerProcess::command(c));
    BOOST_TEST(spec.binds.size() == 1u);
    BOOST_TEST(spec.idmap_binds.empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::shim
