// VmmBackend: the MachineConfig it writes for runvm-vmm (vmm.json), its log and files.
#include <boost/test/unit_test.hpp>
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
    for (const char* arg :
         {"console=ttyS0", "pci=off", "8250.nr_uarts=1", "panic=-1", "reboot=k", "runvm.debug=1"}) {
        BOOST_TEST(cmdline.find(arg) != std::string::npos, "cmdline has " << arg);
    }
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
