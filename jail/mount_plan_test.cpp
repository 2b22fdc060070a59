// mount_plan: what a jail's root holds for a set of binds.
#include <boost/test/unit_test.hpp>

#include "jail/mount_plan.hpp"

namespace runvm::jail {

BOOST_AUTO_TEST_SUITE(mount_plan_suite)

using Kind = MountStep::Kind;

BOOST_AUTO_TEST_CASE(usr_ld_cache_binds_program_devices_proc) {
    JailSpec spec;
    spec.root = "/run/vm/jail-root";
    spec.user = "runvm";
    spec.binds = {{"/run/vm/jail", false}, {"/var/cache/image/vmlinuz", true}};
    spec.devices = {"kvm"};
    spec.proc = true;
    spec.program = {"/opt/runvm/bin/runvm-vmm", "--config", "/run/vm/jail/vmm.json"};
    const std::vector<MountStep> want = {
        {Kind::symlink, "usr/bin", "/bin", true, false},
        {Kind::symlink, "usr/sbin", "/sbin", true, false},
        {Kind::symlink, "usr/lib", "/lib", true, false},
        {Kind::symlink, "usr/lib64", "/lib64", true, false},
        {Kind::bind, "/usr", "/usr", true, false},
        {Kind::bind, "/etc/ld.so.cache", "/etc/ld.so.cache", true, false},
        {Kind::bind, "/run/vm/jail", "/run/vm/jail", false, false},
        {Kind::bind, "/var/cache/image/vmlinuz", "/var/cache/image/vmlinuz", true, false},
        // the program, read-only, since it is not under /usr or a bind
        {Kind::bind, "/opt/runvm/bin/runvm-vmm", "/opt/runvm/bin/runvm-vmm", true, false},
        {Kind::bind, "/dev/kvm", "/dev/kvm", false, true},
        {Kind::proc, "proc", "/proc", false, false},
    };
    BOOST_TEST((mount_plan(spec) == want));
}

BOOST_AUTO_TEST_CASE(nothing_of_etc_but_the_loader_cache) {
    JailSpec spec;
    spec.program = {"/usr/bin/qemu-system-x86_64"};
    for (const MountStep& step : mount_plan(spec)) {
        BOOST_TEST((step.target == "/etc/ld.so.cache" || !step.target.starts_with("/etc")));
        // A program under /usr is there already: no bind of its own.
        BOOST_TEST(step.target != "/usr/bin/qemu-system-x86_64");
        BOOST_TEST((step.kind != Kind::bind || step.readonly || step.dev),
                   step.target << " is writable");
    }
}

BOOST_AUTO_TEST_CASE(program_inside_a_bind_is_not_bound_again) {
    JailSpec spec;
    spec.binds = {{"/opt/runvm", true}};
    spec.program = {"/opt/runvm/runvm-broker"};
    const auto plan = mount_plan(spec);
    BOOST_TEST(plan.back().target == "/opt/runvm");
}

BOOST_AUTO_TEST_CASE(idmapped_binds_are_their_own_kind) {
    JailSpec spec;
    spec.userns = true;
    spec.idmap_binds = {"/run/vm/shared"};
    spec.program = {"/usr/bin/runvm-broker"};
    const auto plan = mount_plan(spec);
    BOOST_TEST((plan.back() ==
                MountStep{Kind::idmap_bind, "/run/vm/shared", "/run/vm/shared", false, false}));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
