// VmmBackend: the MachineConfig it writes for runvm-vmm (vmm.json), its log and files.
#include <boost/test/unit_test.hpp>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/hypervisor/test_support.hpp"
#include "shim/hypervisor/vmm/vmm_backend.hpp"

using namespace runvm;
using namespace runvm::shim;
using namespace runvm::shim::testing;

BOOST_AUTO_TEST_CASE(vmm_config_lists_the_brokers_devices) {
    TempDir d;
    VmmBackend vmm;
    BOOST_REQUIRE(vmm.prepare(config_in(d)).ok());
    BOOST_TEST(vmm.command().at(1) == "--config");
    const auto j = VmmBackend::make_config(config_in(d));
    BOOST_TEST(j["memory_mib"].get<uint64_t>() == 192u);
    BOOST_TEST(!j.contains("vhost_user"));
    BOOST_TEST(j["devices"].size() == 2u);
    BOOST_TEST(j["devices"][0]["type"] == "vsock");
    BOOST_TEST(j["devices"][0]["socket"] == d.path + "/vsock.sock");
    BOOST_TEST(j["devices"][1]["type"] == "blk");
    BOOST_TEST(j["devices"][1]["socket"] == d.path + "/blk.sock");
    // Every key must be one runvm-vmm knows (it rejects unknown keys with status 2).
    for (const auto& [key, value] : j.items()) {
        BOOST_TEST((key == "kernel" || key == "initrd" || key == "cmdline" || key == "vcpus" ||
                    key == "memory_mib" || key == "serial_log" || key == "devices"),
                   "key " << key);
    }
    // The backend's cmdline replaces the VMM's default: it must keep its basics.
    const std::string cmdline = j["cmdline"].get<std::string>();
    for (const char* arg : {"console=ttyS0", "pci=off", "8250.nr_uarts=1", "panic=-1", "reboot=k",
                            "cryptomgr.notests", "runvm.debug=1"}) {
        BOOST_TEST(cmdline.find(arg) != std::string::npos, "cmdline has " << arg);
    }
    BOOST_TEST(cmdline.rfind("runvm.debug=1") > cmdline.find("cryptomgr.notests")); // it wins
    BOOST_TEST(cmdline.find("acpi=off") == std::string::npos);
    BOOST_TEST(cmdline.find("reboot=t") == std::string::npos);
    BOOST_TEST(cmdline.find("virtio_mmio.device=") == std::string::npos);
    BOOST_TEST(::access((d.path + "/vmm.json").c_str(), R_OK) == 0);
    // The backend names its own files: the sandbox keeps and removes them without knowing them.
    BOOST_TEST(vmm.log_path() == d.path + "/vmm.log");
    const std::vector<std::string> files = {d.path + "/vmm.log", d.path + "/vmm.json"};
    BOOST_TEST(vmm.work_files() == files, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(vmm_virtiofs_device_only_when_a_share_is_configured) {
    TempDir d;
    VmConfig c = config_in(d);
    BOOST_TEST(VmmBackend::make_config(c)["devices"].size() == 2u);
    c.fs_socket = d.path + "/fs.sock";
    c.fs_tag = "runvm";
    const auto j = VmmBackend::make_config(c);
    BOOST_REQUIRE(j["devices"].size() == 3u);
    BOOST_TEST(j["devices"][2]["type"] == "fs");
    BOOST_TEST(j["devices"][2]["socket"] == d.path + "/fs.sock");
}

BOOST_AUTO_TEST_CASE(net_devices_reach_the_vmm) {
    TempDir d;
    VmConfig c = config_in(d);
    c.net_devices = {{d.path + "/net0.sock", "02:42:ac:11:00:02"}, {d.path + "/net1.sock", ""}};
    const auto j = VmmBackend::make_config(c);
    size_t nets = 0;
    for (const auto& dev : j["devices"]) {
        if (dev["type"] == "net") {
            BOOST_TEST(dev["socket"] == d.path + "/net" + std::to_string(nets) + ".sock");
            ++nets;
        }
    }
    BOOST_TEST(nets == 2u);
}

// Jailed: runvm-jail runs runvm-vmm as the jail user with /dev/kvm, the kvm group where the
// host has one, the vmm seccomp profile, and only the files it reads (read-only) and the jail
// directory (read-write) bound in.
BOOST_AUTO_TEST_CASE(jailed_vmm_runs_through_runvm_jail) {
    TempDir d;
    VmConfig c = config_in(d);
    c.console_log.clear(); // a console is handed over by fd, which needs root (fchown)
    c.settings.jail = true;
    c.settings.jail_user = "nobody";
    c.settings.paths.vmm = "/bin/true";
    c.jail_dir = d.path + "/jail";
    c.jail_root = d.path + "/jail-root";
    VmmBackend vmm;
    auto prepared = vmm.prepare(c);
    BOOST_REQUIRE_MESSAGE(prepared.ok(), (prepared.ok() ? "" : prepared.error().str()));
    const auto& argv = vmm.command();
    BOOST_TEST(argv.front().ends_with("runvm-jail"));
    BOOST_TEST(after(argv, "--root") == c.jail_root);
    BOOST_TEST(after(argv, "--user") == "nobody");
    BOOST_TEST(after(argv, "--seccomp") == "vmm");
    BOOST_TEST(has(argv, "--proc"));
    BOOST_TEST(has(argv, c.settings.kernel + ":ro"));
    BOOST_TEST(has(argv, c.settings.initrd + ":ro"));
    BOOST_TEST(has(argv, d.path + "/vmm.json:ro"));
    BOOST_TEST(has(argv, c.jail_dir));
    BOOST_TEST(after(argv, "--dev") == "null");
    BOOST_TEST(has(argv, "kvm"));
    BOOST_TEST(has(argv, "--group-add") == (::getgrnam("kvm") != nullptr));
    const auto program = std::find(argv.begin(), argv.end(), "--");
    BOOST_REQUIRE(program != argv.end());
    const std::vector<std::string> tail(program + 1, argv.end());
    const std::vector<std::string> want = {"/usr/bin/true", "--config", d.path + "/vmm.json"};
    BOOST_TEST(tail == want, boost::test_tools::per_element());
    // The jailed program reads its config as the jail user.
    struct stat st {};
    BOOST_TEST(::stat((d.path + "/vmm.json").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0644u);
}

BOOST_AUTO_TEST_CASE(jailed_vmm_needs_the_jail_directories_and_user) {
    TempDir d;
    VmConfig c = config_in(d);
    c.console_log.clear();
    c.settings.jail = true;
    c.settings.jail_user = "nobody";
    c.settings.paths.vmm = "/bin/true";
    auto prepared = VmmBackend().prepare(c);
    BOOST_REQUIRE(!prepared.ok());
    BOOST_TEST(prepared.error().message() == "jail: no jail directory for the hypervisor");
    c.jail_dir = d.path + "/jail";
    c.jail_root = d.path + "/jail-root";
    c.settings.jail_user = "runvm-no-such-user";
    prepared = VmmBackend().prepare(c);
    BOOST_REQUIRE(!prepared.ok());
    BOOST_TEST(prepared.error().message().find("jail user runvm-no-such-user does not exist") !=
               std::string::npos);
}
