// runvm-vmm's command line: flags alone, flags over a --config document, bad values.
#include <cstdio>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include "base/io.hpp"
#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/cli/command_line.hpp"
#include "vmm/machine/exit_status.hpp"

using namespace runvm;
using namespace runvm::vmm;

namespace {

std::variant<MachineConfig, int> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "runvm-vmm");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

} // namespace

BOOST_AUTO_TEST_CASE(flags_alone_fill_the_defaults) {
    auto r = parse({"--kernel", "/k", "--vcpus", "2", "--memory-mib", "64", "--device",
                    "blk=/b.sock", "--device", "vsock=/v.sock", "--no-acpi"});
    BOOST_REQUIRE(std::holds_alternative<MachineConfig>(r));
    const auto& c = std::get<MachineConfig>(r);
    BOOST_TEST(c.kernel == "/k");
    BOOST_TEST(c.vcpus == 2u);
    BOOST_TEST(c.memory_mib == 64u);
    BOOST_REQUIRE(c.devices.size() == 2u);
    BOOST_TEST(c.devices[1].type == "vsock");
    BOOST_TEST(c.devices[1].socket == "/v.sock");
    BOOST_TEST(!c.acpi);
    BOOST_TEST(c.seccomp);
    BOOST_TEST(c.cpuid_mask == x86_64::default_cpuid_mask());
    BOOST_TEST(c.kernel_format == "auto");
}

BOOST_AUTO_TEST_CASE(flags_override_the_config_document) {
    const std::string path = "/tmp/runvm-vmm-cli-test." + std::to_string(::getpid()) + ".json";
    MachineConfig doc;
    doc.kernel = "/doc-kernel";
    doc.memory_mib = 128;
    doc.cpuid_mask = x86_64::kvm_pvm_cpuid_mask();
    doc.devices = {{"vsock", "/v.sock"}};
    BOOST_REQUIRE(write_file_atomic(path, encode_machine_config(doc), 0600).ok());
    auto r = parse({"--config", path.c_str(), "--memory-mib", "256", "--device", "blk=/b.sock",
                    "--no-seccomp"});
    std::remove(path.c_str());
    BOOST_REQUIRE(std::holds_alternative<MachineConfig>(r));
    const auto& c = std::get<MachineConfig>(r);
    BOOST_TEST(c.kernel == "/doc-kernel");
    BOOST_TEST(c.memory_mib == 256u); // the flag over the document
    BOOST_TEST(c.cpuid_mask == x86_64::kvm_pvm_cpuid_mask());
    BOOST_REQUIRE(c.devices.size() == 2u); // the document's, then the flags'
    BOOST_TEST(c.devices[0].type == "vsock");
    BOOST_TEST(c.devices[1].type == "blk");
    BOOST_TEST(!c.seccomp);
}

BOOST_AUTO_TEST_CASE(bad_values_are_usage_errors) {
    auto no_kernel = parse({"--vcpus", "2"});
    BOOST_REQUIRE(std::holds_alternative<int>(no_kernel));
    BOOST_TEST(std::get<int>(no_kernel) == kExitUsage);
    auto bad_device = parse({"--kernel", "/k", "--device", "blk"});
    BOOST_REQUIRE(std::holds_alternative<int>(bad_device));
    BOOST_TEST(std::get<int>(bad_device) == kExitUsage);
    auto missing_doc = parse({"--config", "/nonexistent/vmm.json"});
    BOOST_REQUIRE(std::holds_alternative<int>(missing_doc));
    BOOST_TEST(std::get<int>(missing_doc) == kExitUsage);
    auto mask = parse({"--kernel", "/k", "--cpuid-mask", "avx,avx2"});
    BOOST_REQUIRE(std::holds_alternative<MachineConfig>(mask));
    const std::vector<std::string> want = {"avx", "avx2"};
    BOOST_TEST(std::get<MachineConfig>(mask).cpuid_mask == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(restore_flag_stands_in_for_the_kernel) {
    auto r = parse({"--restore", "/var/lib/t1", "--serial-log", "/log"});
    BOOST_REQUIRE(std::holds_alternative<MachineConfig>(r));
    BOOST_TEST(std::get<MachineConfig>(r).restore == "/var/lib/t1");
    BOOST_TEST(std::get<MachineConfig>(r).kernel.empty());
}
