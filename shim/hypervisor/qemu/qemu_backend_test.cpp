// QemuBackend: its command line (microvm, memfd, vhost-user devices), its log and files.
#include <boost/test/unit_test.hpp>

#include "shim/hypervisor/host_tsc.hpp"
#include "shim/hypervisor/qemu/qemu_backend.hpp"
#include "shim/hypervisor/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using namespace runvm::shim::testing;

BOOST_AUTO_TEST_CASE(qemu_command_line_has_microvm_memfd_and_vhost_user_devices) {
    TempDir d;
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(config_in(d)).ok());
    const auto& argv = qemu.command();
    BOOST_TEST(argv.front() == "qemu-system-x86_64");
    BOOST_TEST(qemu.log_path() == d.path + "/qemu.log");
    BOOST_TEST(qemu.work_files().size() == 1u);
    BOOST_TEST(after(argv, "-accel") == "tcg,tb-size=64"); // the default cap (docs/resources.md)
    BOOST_TEST(after(argv, "-machine") == "microvm,acpi=on,memory-backend=mem");
    BOOST_TEST(after(argv, "-object") == "memory-backend-memfd,id=mem,size=192M,share=on");
    BOOST_TEST(after(argv, "-smp") == "2");
    BOOST_TEST(has(argv, "-no-reboot"));
    BOOST_TEST(has(argv, "socket,id=vsock0,path=" + d.path + "/vsock.sock"));
    BOOST_TEST(has(argv, "vhost-user-vsock-device,chardev=vsock0"));
    BOOST_TEST(has(argv, "socket,id=blk0,path=" + d.path + "/blk.sock"));
    BOOST_TEST(after(argv, "-serial") == "file:" + d.path + "/console.log");
    const std::string append = after(argv, "-append");
    BOOST_TEST(append.find("panic=-1") != std::string::npos);
    BOOST_TEST(append.find("runvm.debug=1") != std::string::npos);
    if (host_tsc_khz()) {
        BOOST_TEST(append.find("tsc_early_khz=") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(virtiofs_device_only_when_a_share_is_configured) {
    TempDir d;
    VmConfig c = config_in(d);
    QemuBackend plain;
    BOOST_REQUIRE(plain.prepare(c).ok());
    for (const auto& a : plain.command()) {
        BOOST_TEST(a.find("vhost-user-fs") == std::string::npos);
    }
    c.fs_socket = d.path + "/fs.sock";
    c.fs_tag = "runvm";
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(c).ok());
    BOOST_TEST(has(qemu.command(), "socket,id=fs0,path=" + d.path + "/fs.sock"));
    BOOST_TEST(has(qemu.command(), "vhost-user-fs-device,chardev=fs0,tag=runvm"));
}

BOOST_AUTO_TEST_CASE(net_devices_reach_qemu) {
    TempDir d;
    VmConfig c = config_in(d);
    QemuBackend plain;
    BOOST_REQUIRE(plain.prepare(c).ok());
    BOOST_TEST(!has(plain.command(), "-netdev")); // no namespace plumbed: loopback only
    c.net_devices = {{d.path + "/net0.sock", "02:42:ac:11:00:02"}, {d.path + "/net1.sock", ""}};
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(c).ok());
    const auto& argv = qemu.command();
    BOOST_TEST(has(argv, "socket,id=net0,path=" + d.path + "/net0.sock"));
    BOOST_TEST(has(argv, "vhost-user,id=netdev0,chardev=net0"));
    BOOST_TEST(has(argv, "virtio-net-device,netdev=netdev0,mac=02:42:ac:11:00:02"));
    BOOST_TEST(has(argv, "socket,id=net1,path=" + d.path + "/net1.sock"));
    BOOST_TEST(has(argv, "virtio-net-device,netdev=netdev1"));
}

// The sandbox's log pump: the program's output is opened where log_writer says (a pipe there),
// while log_path() and work_files() still name the capped file it fills.
BOOST_AUTO_TEST_CASE(output_goes_through_the_log_writer) {
    TempDir d;
    VmConfig c = config_in(d);
    c.settings.paths.qemu = "/bin/echo";
    std::string asked;
    c.log_writer = [&](const std::string& log) -> Result<std::string> {
        asked = log;
        return d.path + "/through";
    };
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(c).ok());
    BOOST_TEST(asked == d.path + "/qemu.log");
    BOOST_TEST(qemu.log_path() == d.path + "/qemu.log");
    BOOST_TEST(qemu.work_files() == std::vector<std::string>{d.path + "/qemu.log"});
    BOOST_REQUIRE(qemu.start().ok());
    auto st = qemu.wait(std::chrono::milliseconds(5000));
    BOOST_REQUIRE(st.ok());
    BOOST_TEST(st->has_value());
    std::ifstream through(d.path + "/through");
    std::string first;
    through >> first;
    BOOST_TEST(first == "-accel"); // echo's argv[1]
    BOOST_TEST(::access((d.path + "/qemu.log").c_str(), F_OK) != 0);
}
