// The seccomp allow-lists: nothing forbidden in any, the exec and the loader in each.
#include <algorithm>

#include <boost/test/unit_test.hpp>
#include <seccomp.h>

#include "jail/seccomp_profile.hpp"

namespace runvm::jail {

BOOST_AUTO_TEST_SUITE(seccomp_profiles)

namespace {

constexpr SeccompProfile kProfiles[] = {SeccompProfile::qemu, SeccompProfile::vmm,
                                        SeccompProfile::broker};

std::string name_of(int nr) {
    char* name = ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    std::string s = name ? name : std::to_string(nr);
    ::free(name);
    return s;
}

bool has(const std::vector<int>& list, int nr) {
    return std::binary_search(list.begin(), list.end(), nr);
}

} // namespace

BOOST_AUTO_TEST_CASE(forbidden_syscalls_are_in_no_profile) {
    for (const SeccompProfile profile : kProfiles) {
        const auto list = profile_syscalls(profile);
        for (const int nr : forbidden_syscalls()) {
            BOOST_TEST(!has(list, nr), seccomp_profile_name(profile) << " allows " << name_of(nr));
        }
        BOOST_TEST_MESSAGE(seccomp_profile_name(profile) << ": " << list.size() << " syscalls");
    }
}

BOOST_AUTO_TEST_CASE(every_profile_allows_the_exec_and_the_loader) {
    for (const SeccompProfile profile : kProfiles) {
        const auto list = profile_syscalls(profile);
        BOOST_TEST(std::is_sorted(list.begin(), list.end()));
        for (const int nr : {SCMP_SYS(execve), SCMP_SYS(openat), SCMP_SYS(mmap), SCMP_SYS(mprotect),
                             SCMP_SYS(arch_prctl), SCMP_SYS(exit_group)}) {
            BOOST_TEST(has(list, nr), seccomp_profile_name(profile) << " lacks " << name_of(nr));
        }
    }
    BOOST_TEST(has(profile_syscalls(SeccompProfile::vmm), SCMP_SYS(ioctl)));   // KVM
    BOOST_TEST(has(profile_syscalls(SeccompProfile::vmm), SCMP_SYS(accept4))); // its control socket
    BOOST_TEST(profile_syscalls(SeccompProfile::none).empty());
}

BOOST_AUTO_TEST_CASE(the_forbidden_list_is_the_designs) {
    const std::vector<int> forbidden(forbidden_syscalls().begin(), forbidden_syscalls().end());
    for (const char* name : {"mount",
                             "umount2",
                             "pivot_root",
                             "unshare",
                             "setns",
                             "ptrace",
                             "bpf",
                             "kexec_load",
                             "kexec_file_load",
                             "init_module",
                             "finit_module",
                             "delete_module",
                             "keyctl",
                             "add_key",
                             "request_key",
                             "perf_event_open",
                             "open_by_handle_at",
                             "userfaultfd",
                             "swapon",
                             "reboot",
                             "acct",
                             "personality"}) {
        const int nr = ::seccomp_syscall_resolve_name(name);
        BOOST_TEST((std::find(forbidden.begin(), forbidden.end(), nr) != forbidden.end()), name);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
