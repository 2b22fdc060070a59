// Unit tests of what the hypervisor backends share: the interface (each backend names the
// missing kernel), auto selection, the host TSC rate, and a real QEMU process started and
// stopped (no guest needed). Each backend's own tests are in its folder.
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
#include "shim/hypervisor/process_backend.hpp"
#include "shim/hypervisor/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using namespace runvm::shim::testing;

BOOST_AUTO_TEST_CASE(tsc_khz_parses_cpuinfo_without_floats) {
    BOOST_TEST(tsc_khz_from_cpuinfo("processor\t: 0\ncpu MHz\t\t: 2596.132\n").value() == 2596132u);
    BOOST_TEST(tsc_khz_from_cpuinfo("cpu MHz : 3000\n").value() == 3000000u);
    BOOST_TEST(tsc_khz_from_cpuinfo("cpu MHz : 1999.9\n").value() == 1999900u);
    BOOST_TEST(!tsc_khz_from_cpuinfo("model name: x\n").has_value());
    BOOST_TEST(!tsc_khz_from_cpuinfo("cpu MHz : zero\n").has_value());
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
