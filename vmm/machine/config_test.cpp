// Machine config parsing, the CPUID template and the initial register state.
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/arch/x86_64/gdt.hpp"
#include "vmm/arch/x86_64/regs.hpp"
#include "vmm/machine/config.hpp"

using namespace runvm;
using namespace runvm::vmm;
using namespace runvm::vmm::x86_64;

BOOST_AUTO_TEST_CASE(config_from_json) {
    auto c = parse_machine_config(R"({"kernel": "/k", "initrd": "/i", "vcpus": 2,
        "memory_mib": 512, "devices": [{"type": "vsock", "socket": "/s"}],
        "serial_log": "/log", "control_socket": "/ctl", "cpuid_mask": "kvm_pvm"})");
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().str()));
    BOOST_TEST(c->kernel == "/k");
    BOOST_TEST(c->vcpus == 2u);
    BOOST_TEST(c->memory_mib == 512u);
    BOOST_REQUIRE(c->devices.size() == 1u);
    BOOST_TEST(c->devices[0].type == "vsock");
    BOOST_TEST(c->devices[0].socket == "/s");
    BOOST_TEST(c->cpuid_mask == kvm_pvm_cpuid_mask());
    BOOST_TEST(c->seccomp);

    auto d = parse_machine_config(R"({"kernel": "/k"})");
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d->cpuid_mask == default_cpuid_mask());
    BOOST_TEST(d->cmdline.find("console=ttyS0") != std::string::npos);
    BOOST_TEST(d->acpi);
    BOOST_TEST(!virtio_devices_on_cmdline(*d));
    d->cmdline += " acpi=off";
    BOOST_TEST(virtio_devices_on_cmdline(*d));
    d->cmdline += "x"; // "acpi=offx" is another word
    BOOST_TEST(!virtio_devices_on_cmdline(*d));

    auto n = parse_machine_config(R"({"kernel": "/k", "acpi": false})");
    BOOST_REQUIRE(n.ok());
    BOOST_TEST(!n->acpi);
    BOOST_TEST(virtio_devices_on_cmdline(*n));
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_key) {
    auto expect = [](const char* json, const char* word) {
        auto c = parse_machine_config(json);
        BOOST_REQUIRE(!c.ok());
        BOOST_TEST(c.error().str().find(word) != std::string::npos, c.error().str());
    };
    expect(R"({"kernel": "/k", "vcpu": 2})", "vcpu");
    expect(R"({"vcpus": 2})", "kernel");
    expect(R"({"kernel": "/k", "vcpus": 0})", "vcpus");
    expect(R"({"kernel": "/k", "vcpus": "two"})", "vcpus");
    expect(R"({"kernel": "/k", "memory_mib": 7})", "memory_mib");
    expect(R"({"kernel": "/k", "devices": [{"type": "gpu", "socket": "/s"}]})", "gpu");
    expect(R"({"kernel": "/k", "cpuid_mask": ["avx", "warp"]})", "warp");
    expect(R"({"kernel": "/k", "kernel_format": "pe"})", "kernel_format");
    expect("[1]", "object");
    expect("{", "config");
}

// runvm-vmm --config doc.json --kernel K: the document alone may lack what flags supply.
BOOST_AUTO_TEST_CASE(config_decoded_before_flags_complete_it) {
    auto d = decode_machine_config(R"({"memory_mib": 64, "cpuid_mask": "kvm_pvm"})");
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d->memory_mib == 64u);
    BOOST_TEST(!validate_machine_config(*d).ok());
    d->kernel = "/k";
    BOOST_TEST(validate_machine_config(*d).ok());
    BOOST_TEST(!decode_machine_config(R"({"memory": 64})").ok());
}

BOOST_AUTO_TEST_CASE(cpuid_template) {
    std::vector<kvm_cpuid_entry2> supported(4);
    supported[0].function = 1;
    supported[0].ecx = (1u << 26) | (1u << 13) | (1u << 3);
    supported[0].ebx = 0xff00ffff;
    supported[1].function = 7;
    supported[1].ecx = 1u << 16;
    supported[1].ebx = 1u << 5;
    supported[2].function = 0xd;
    supported[3].function = 0xb;
    supported[3].index = 1;
    auto out = guest_cpuid(supported, 3, 4, kvm_pvm_cpuid_mask());
    BOOST_REQUIRE(out.size() == 3u);               // leaf 0xd dropped with xsave
    BOOST_TEST((out[0].ebx >> 24) == 3u);          // APIC id
    BOOST_TEST(((out[0].ebx >> 16) & 0xff) == 4u); // logical processors
    BOOST_TEST((out[0].ecx & (1u << 31)) != 0u);   // hypervisor
    BOOST_TEST((out[0].ecx & (1u << 26)) == 0u);   // xsave hidden
    BOOST_TEST((out[0].ecx & (1u << 13)) == 0u);   // cx16 hidden
    BOOST_TEST((out[0].ecx & (1u << 3)) == 0u);    // monitor hidden
    BOOST_TEST((out[0].edx & (1u << 28)) != 0u);   // HTT with 4 vCPUs
    BOOST_TEST(out[1].ecx == 0u);                  // la57 hidden
    BOOST_TEST(out[1].ebx == 0u);                  // avx2 hidden
    BOOST_TEST(out[2].ebx == 4u);                  // topology: 4 at core level
    BOOST_TEST(out[2].edx == 3u);
    auto plain = guest_cpuid(supported, 0, 1, {});
    BOOST_TEST(plain.size() == 4u);
    BOOST_TEST((plain[0].ecx & (1u << 26)) != 0u);
    BOOST_TEST((plain[0].ecx & (1u << 24)) == 0u); // no TSC deadline unless KVM has it
    BOOST_TEST(validate_cpuid_mask({"la57", "xsave"}).ok());
    BOOST_TEST(!validate_cpuid_mask({"nope"}).ok());
}

BOOST_AUTO_TEST_CASE(cpuid_tsc_deadline_timer_from_kvm_capability) {
    std::vector<kvm_cpuid_entry2> supported(1);
    supported[0].function = 1;
    supported[0].ecx = 1u << 0; // SSE3, untouched
    CpuidHostCaps caps;
    caps.tsc_deadline_timer = true;
    auto with = guest_cpuid(supported, 0, 1, default_cpuid_mask(), caps);
    BOOST_TEST((with[0].ecx & (1u << 24)) != 0u);
    BOOST_TEST((with[0].ecx & 1u) != 0u);
    auto masked = guest_cpuid(supported, 0, 1, {"tsc_deadline"}, caps);
    BOOST_TEST((masked[0].ecx & (1u << 24)) == 0u);
    auto without = guest_cpuid(supported, 0, 1, {}, CpuidHostCaps{});
    BOOST_TEST((without[0].ecx & (1u << 24)) == 0u);
}

BOOST_AUTO_TEST_CASE(long_mode_register_state) {
    kvm_sregs base{};
    auto s = boot_sregs(base, EntryMode::long64, 0x1000000, 0x9000);
    BOOST_TEST(s.cr3 == 0x9000u);
    BOOST_TEST((s.cr0 & (kCr0Pe | kCr0Pg)) == (kCr0Pe | kCr0Pg));
    BOOST_TEST((s.cr4 & kCr4Pae) != 0u);
    BOOST_TEST((s.efer & (kEferLme | kEferLma)) == (kEferLme | kEferLma));
    BOOST_TEST(s.cs.selector == kBootCs);
    BOOST_TEST(s.cs.l == 1);
    BOOST_TEST(s.ds.selector == kBootDs);
    BOOST_TEST(s.ss.selector == kBootDs);
    BOOST_TEST(s.tr.selector == kBootTss);
    BOOST_TEST(s.gdt.base == layout::kGdtAddr);
    BOOST_TEST(s.gdt.limit == 39);
    auto r = boot_regs(EntryMode::long64, 0x1000000);
    BOOST_TEST(r.rip == 0x1000000u);
    BOOST_TEST(r.rsi == layout::kBootParamsAddr);
    BOOST_TEST(r.rflags == 2u);
    auto real = boot_sregs(base, EntryMode::real16, 0x10000, 0);
    BOOST_TEST(real.cs.selector == 0x1000);
    BOOST_TEST(real.cs.base == 0x10000u);
    BOOST_TEST(real.cr0 == 0u);
    BOOST_TEST(boot_fpu().fcw == 0x37f);
    BOOST_TEST(boot_fpu().mxcsr == 0x1f80u);
    BOOST_TEST(boot_msrs().size() == 11u);

    kvm_lapic_state l{};
    uint32_t masked = 0x10000;
    std::memcpy(l.regs + 0x350, &masked, 4);
    auto lapic = boot_lapic(l);
    uint32_t lvt0, lvt1;
    std::memcpy(&lvt0, lapic.regs + 0x350, 4);
    std::memcpy(&lvt1, lapic.regs + 0x360, 4);
    BOOST_TEST(lvt0 == (0x10000u | (7u << 8)));
    BOOST_TEST(lvt1 == (4u << 8));
}

// The document the sandbox library writes (vmm.json) reads back as the same MachineConfig.
BOOST_AUTO_TEST_CASE(encoded_config_decodes_to_itself) {
    MachineConfig c;
    c.kernel = "/k";
    c.initrd = "/i";
    c.vcpus = 3;
    c.memory_mib = 512;
    c.serial_log = "/console.log";
    c.devices = {{"vsock", "/v"}, {"net", "/n"}};
    c.cpuid_mask = default_cpuid_mask();
    auto back = parse_machine_config(encode_machine_config(c));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->kernel == "/k");
    BOOST_TEST(back->initrd == "/i");
    BOOST_TEST(back->cmdline == c.cmdline);
    BOOST_TEST(back->vcpus == 3u);
    BOOST_TEST(back->memory_mib == 512u);
    BOOST_TEST(back->serial_log == "/console.log");
    BOOST_REQUIRE(back->devices.size() == 2u);
    BOOST_TEST(back->devices[1].type == "net");
    BOOST_TEST(back->cpuid_mask == default_cpuid_mask());
    BOOST_TEST(encode_machine_config(c).find("seccomp") == std::string::npos); // defaults left out
    c.seccomp = false;
    c.acpi = false;
    c.cpuid_mask = kvm_pvm_cpuid_mask();
    back = parse_machine_config(encode_machine_config(c));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(!back->seccomp);
    BOOST_TEST(!back->acpi);
    BOOST_TEST(back->cpuid_mask == kvm_pvm_cpuid_mask());
}

BOOST_AUTO_TEST_CASE(restore_needs_no_kernel_and_round_trips) {
    auto c = parse_machine_config(R"({"restore": "/var/lib/t1", "control_socket": "/ctl"})");
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().str()));
    BOOST_TEST(c->restore == "/var/lib/t1");
    BOOST_TEST(c->kernel.empty());
    auto back = parse_machine_config(encode_machine_config(*c));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->restore == "/var/lib/t1");
    MachineConfig plain;
    plain.kernel = "/k";
    BOOST_TEST(encode_machine_config(plain).find("restore") == std::string::npos);
    auto none = parse_machine_config("{}");
    BOOST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().str() == "config: 'kernel' is required (or 'restore')");
}

BOOST_AUTO_TEST_CASE(restore_fds_come_in_pairs_and_round_trip) {
    auto c =
        parse_machine_config(R"({"restore": "/t", "restore_state_fd": 7, "restore_memory_fd": 8})");
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().str()));
    BOOST_TEST(c->restore_state_fd == 7);
    BOOST_TEST(c->restore_memory_fd == 8);
    auto back = parse_machine_config(encode_machine_config(*c));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->restore_memory_fd == 8);
    for (const char* bad :
         {R"({"restore": "/t", "restore_state_fd": 7})",
          R"({"kernel": "/k", "restore_state_fd": 7, "restore_memory_fd": 8})",
          R"({"restore": "/t", "restore_state_fd": 7, "restore_memory_fd": 7})",
          R"({"restore": "/t", "restore_state_fd": 1, "restore_memory_fd": 8})"}) {
        auto r = parse_machine_config(bad);
        BOOST_REQUIRE_MESSAGE(!r.ok(), bad);
        BOOST_TEST(r.error().str().find("'restore_state_fd', 'restore_memory_fd'") !=
                   std::string::npos);
    }
}
