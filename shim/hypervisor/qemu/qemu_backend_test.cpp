// QemuBackend: its command line (microvm, memfd, vhost-user devices), its log and files.
#include <boost/test/unit_test.hpp>
#include <grp.h>
#include <sys/stat.h>

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
    // The boot shorteners, then the operator's options last (they win).
    BOOST_TEST(append.find("cryptomgr.notests") < append.rfind("runvm.debug=1"));
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

namespace {

VmConfig jailed_config(const TempDir& d) {
    VmConfig c = config_in(d);
    c.settings.jail = true;
    c.settings.jail_user = "nobody";
    c.jail_dir = d.path + "/jail";
    c.jail_root = d.path + "/jail-root";
    return c;
}

} // namespace

// Jailed: runvm-jail runs QEMU (its absolute path) as the jail user with the qemu seccomp
// profile, QEMU's own -sandbox on top, the kernel and initramfs read-only.
BOOST_AUTO_TEST_CASE(jailed_qemu_runs_through_runvm_jail_with_its_sandbox) {
    TempDir d;
    VmConfig c = jailed_config(d);
    c.console_log.clear(); // a console is handed over by fd, which needs root (fchown)
    c.settings.paths.qemu = "/bin/echo";
    QemuBackend qemu;
    auto prepared = qemu.prepare(c);
    BOOST_REQUIRE_MESSAGE(prepared.ok(), (prepared.ok() ? "" : prepared.error().str()));
    const auto& argv = qemu.command();
    BOOST_TEST(argv.front().ends_with("runvm-jail"));
    BOOST_TEST(after(argv, "--root") == c.jail_root);
    BOOST_TEST(after(argv, "--user") == "nobody");
    BOOST_TEST(after(argv, "--seccomp") == "qemu");
    BOOST_TEST(has(argv, "--proc"));
    BOOST_TEST(has(argv, c.settings.kernel + ":ro"));
    BOOST_TEST(has(argv, c.settings.initrd + ":ro"));
    BOOST_TEST(has(argv, c.jail_dir));
    BOOST_TEST(!has(argv, "kvm"));                    // TCG: no /dev/kvm
    BOOST_TEST(after(argv, "--") == "/usr/bin/echo"); // the real path: /bin is a link
    BOOST_TEST(after(argv, "-sandbox") ==
               "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    BOOST_TEST(after(argv, "-serial") == "null");

    QemuBackend kvm(true);
    BOOST_REQUIRE(kvm.prepare(c).ok() == (::getgrnam("kvm") != nullptr));
}

BOOST_AUTO_TEST_CASE(unjailed_qemu_has_no_sandbox_option) {
    TempDir d;
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(config_in(d)).ok());
    BOOST_TEST(!has(qemu.command(), "-sandbox"));
    BOOST_TEST(qemu.command().front() == "qemu-system-x86_64");
}

namespace {

struct NeedsRoot {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(::geteuid() == 0);
        r.message() << "needs root";
        return r;
    }
};

} // namespace

// The console reaches the jailed program as an fd of its own (/proc/self/fd/N), owned by the
// jail user: the shim's /proc/<pid>/fd paths are another uid's.
BOOST_AUTO_TEST_CASE(jailed_qemu_gets_its_console_by_fd,
                     *boost::unit_test::precondition(NeedsRoot())) {
    TempDir d;
    VmConfig c = jailed_config(d);
    BOOST_REQUIRE(::mkdir(c.jail_dir.c_str(), 0700) == 0);
    BOOST_REQUIRE(::mkdir(c.jail_root.c_str(), 0755) == 0);
    c.settings.paths.qemu = "/usr/bin/echo";
    c.console_log = d.file("console.log", "");
    QemuBackend qemu;
    auto prepared = qemu.prepare(c);
    BOOST_REQUIRE_MESSAGE(prepared.ok(), (prepared.ok() ? "" : prepared.error().str()));
    const std::string serial = after(qemu.command(), "-serial");
    BOOST_TEST(serial.starts_with("file:/proc/self/fd/"), serial);
    BOOST_TEST(serial.substr(serial.rfind('/') + 1) == after(qemu.command(), "--keep-fd"));
    struct stat st {};
    BOOST_TEST(::stat(c.console_log.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 65534u);
    // The jailer runs it for real: echo prints QEMU's argv into the log.
    BOOST_REQUIRE(qemu.start().ok());
    auto status = qemu.wait(std::chrono::milliseconds(10'000));
    BOOST_REQUIRE(status.ok());
    BOOST_REQUIRE(status->has_value());
    std::ifstream log(qemu.log_path());
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    BOOST_TEST(**status == 0, text);
    BOOST_TEST(text.find("-sandbox on,obsolete=deny") != std::string::npos, text);
}
