// Unit tests for the hypervisor backends: command lines, configs, auto selection, and a
// real QEMU process started and stopped (no guest needed).
#define BOOST_TEST_MODULE hypervisor
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/hypervisor/backend.hpp"
#include "shim/hypervisor/host_tsc.hpp"
#include "shim/hypervisor/qemu/qemu_backend.hpp"
#include "shim/hypervisor/vmm/vmm_backend.hpp"

using namespace runvm;
using namespace runvm::shim;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/runvm-hv-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string file(const std::string& name, const std::string& text = "x") const {
        std::ofstream(path + "/" + name) << text;
        return path + "/" + name;
    }
};

VmConfig config_in(const TempDir& d) {
    VmConfig c;
    c.settings.kernel = d.file("vmlinuz");
    c.settings.initrd = d.file("initrd");
    c.vsock_socket = d.path + "/vsock.sock";
    c.blk_socket = d.path + "/blk.sock";
    c.console_log = d.path + "/console.log";
    c.work_dir = d.path;
    c.settings.memory_mib = 192;
    c.settings.vcpus = 2;
    c.settings.kernel_cmdline = "runvm.debug=1";
    return c;
}

bool has(const std::vector<std::string>& argv, const std::string& s) {
    return std::find(argv.begin(), argv.end(), s) != argv.end();
}

std::string after(const std::vector<std::string>& argv, const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(tsc_khz_parses_cpuinfo_without_floats) {
    BOOST_TEST(tsc_khz_from_cpuinfo("processor\t: 0\ncpu MHz\t\t: 2596.132\n").value() == 2596132u);
    BOOST_TEST(tsc_khz_from_cpuinfo("cpu MHz : 3000\n").value() == 3000000u);
    BOOST_TEST(tsc_khz_from_cpuinfo("cpu MHz : 1999.9\n").value() == 1999900u);
    BOOST_TEST(!tsc_khz_from_cpuinfo("model name: x\n").has_value());
    BOOST_TEST(!tsc_khz_from_cpuinfo("cpu MHz : zero\n").has_value());
}

BOOST_AUTO_TEST_CASE(qemu_command_line_has_microvm_memfd_and_vhost_user_devices) {
    TempDir d;
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(config_in(d)).ok());
    const auto& argv = qemu.command();
    BOOST_TEST(argv.front() == "qemu-system-x86_64");
    BOOST_TEST(qemu.log_path() == d.path + "/qemu.log");
    BOOST_TEST(qemu.work_files().size() == 1u);
    BOOST_TEST(after(argv, "-accel") == "tcg");
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

BOOST_AUTO_TEST_CASE(prepare_names_the_missing_kernel) {
    TempDir d;
    VmConfig c = config_in(d);
    c.settings.kernel = d.path + "/no-such-kernel";
    for (config::Hypervisor k : {config::Hypervisor::qemu, config::Hypervisor::kvm}) {
        auto r = make_backend(k)->prepare(c);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("no-such-kernel") != std::string::npos);
    }
}

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

BOOST_AUTO_TEST_CASE(virtiofs_device_only_when_a_share_is_configured) {
    TempDir d;
    VmConfig c = config_in(d);
    QemuBackend plain;
    BOOST_REQUIRE(plain.prepare(c).ok());
    for (const auto& a : plain.command()) {
        BOOST_TEST(a.find("vhost-user-fs") == std::string::npos);
    }
    BOOST_TEST(VmmBackend::make_config(c)["devices"].size() == 2u);
    c.fs_socket = d.path + "/fs.sock";
    c.fs_tag = "runvm";
    QemuBackend qemu;
    BOOST_REQUIRE(qemu.prepare(c).ok());
    BOOST_TEST(has(qemu.command(), "socket,id=fs0,path=" + d.path + "/fs.sock"));
    BOOST_TEST(has(qemu.command(), "vhost-user-fs-device,chardev=fs0,tag=runvm"));
    const auto j = VmmBackend::make_config(c);
    BOOST_REQUIRE(j["devices"].size() == 3u);
    BOOST_TEST(j["devices"][2]["type"] == "fs");
    BOOST_TEST(j["devices"][2]["socket"] == d.path + "/fs.sock");
}

BOOST_AUTO_TEST_CASE(auto_picks_by_dev_kvm_and_says_why) {
    std::string why;
    const config::Hypervisor k = resolve_hypervisor(config::Hypervisor::automatic, &why);
    const bool kvm_opens = ::access("/dev/kvm", R_OK | W_OK) == 0;
    const bool hardware = std::system("grep -qwE 'vmx|svm' /proc/cpuinfo") == 0;
    BOOST_TEST((k == config::Hypervisor::kvm) == (kvm_opens && hardware));
    BOOST_TEST(why.find("/dev/kvm") != std::string::npos);
    BOOST_TEST((resolve_hypervisor(config::Hypervisor::qemu, &why) == config::Hypervisor::qemu));
    BOOST_TEST((make_backend(config::Hypervisor::qemu)->name() == "qemu-tcg"));
    BOOST_TEST((make_backend(config::Hypervisor::kvm)->name() == "runvm-vmm"));
}

// A real QEMU without a guest: starts, keeps running, stops within the grace period.
namespace {
// A Boost.Test precondition: the case is reported skipped, with this reason, when QEMU is missing.
boost::test_tools::assertion_result qemu_present(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result present(
        std::system("command -v qemu-system-x86_64 >/dev/null") == 0);
    present.message() << "qemu-system-x86_64 missing";
    return present;
}
} // namespace

BOOST_AUTO_TEST_CASE(qemu_process_starts_and_stops, *boost::unit_test::precondition(qemu_present)) {
    TempDir d;
    // A QEMU that idles: no kernel, no devices, paused at start (-S).
    struct Idle : ProcessBackend {
        std::string name() const override { return "idle-qemu"; }
        std::string program(const config::RuntimeConfig&) const override {
            return "qemu-system-x86_64";
        }
        Result<void> prepare(const VmConfig& c) override {
            argv_ = {program(c.settings), "-S",      "-nodefaults", "-nographic",
                     "-machine",          "microvm", "-accel",      "tcg",
                     "-serial",           "null",    "-monitor",    "none"};
            log_path_ = c.work_dir + "/qemu.log";
            return Ok();
        }
    } idle;
    BOOST_REQUIRE(idle.prepare(config_in(d)).ok());
    BOOST_REQUIRE(idle.start().ok());
    const pid_t pid = idle.pid();
    BOOST_TEST(pid > 0);
    auto early = idle.wait(std::chrono::milliseconds(300));
    BOOST_REQUIRE(early.ok());
    BOOST_TEST(!early->has_value());
    idle.stop(std::chrono::milliseconds(2000));
    BOOST_TEST(::kill(pid, 0) != 0); // reaped: the pid is gone
}

BOOST_AUTO_TEST_CASE(net_devices_reach_qemu_and_the_vmm) {
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

BOOST_AUTO_TEST_CASE(auto_wants_hardware_virtualization_behind_dev_kvm) {
    std::string why;
    const std::string amd = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 svm extapic";
    const std::string intel = "flags\t\t: fpu vme vmx smx est";
    const std::string pvm = "flags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm";
    BOOST_TEST((choose_automatic(0, amd, &why) == config::Hypervisor::kvm));
    BOOST_TEST(why == "/dev/kvm opens: runvm-vmm on KVM");
    BOOST_TEST((choose_automatic(0, intel, &why) == config::Hypervisor::kvm));
    BOOST_TEST((choose_automatic(0, pvm, &why) == config::Hypervisor::qemu));
    BOOST_TEST(why.find("neither vmx nor svm") != std::string::npos);
    BOOST_TEST(why.find("kvm_pvm") != std::string::npos);
    // A flag is a whole word: "svm_lock" alone is not svm.
    BOOST_TEST((choose_automatic(0, "flags : npt svm_lock", &why) == config::Hypervisor::qemu));
    BOOST_TEST((choose_automatic(ENOENT, amd, &why) == config::Hypervisor::qemu));
    BOOST_TEST(why == "open /dev/kvm: No such file or directory: QEMU with TCG");
}
