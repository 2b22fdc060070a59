// load_seccomp_allow_list: seccomp_init with EPERM as the default, one allow rule a syscall,
// seccomp_load.
#include "base/seccomp_allow_list.hpp"

#include <cerrno>
#include <cstdlib>

#include <seccomp.h>

#include "base/scope_guard.hpp"

namespace runvm {

namespace {

// "openat" for a message; the number where libseccomp does not know it.
std::string syscall_name(int nr) {
    char* name = ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    std::string s = name != nullptr ? name : "syscall " + std::to_string(nr);
    ::free(name); // libseccomp returns it from malloc
    return s;
}

} // namespace

Result<void> load_seccomp_allow_list(const std::string& what, std::span<const int> syscalls,
                                     std::span<const SeccompArgEquals> arg_rules,
                                     SeccompThreads threads) {
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (ctx == nullptr) {
        return Err(Error::msg("seccomp_init " + what));
    }
    const ScopeGuard release([ctx] { ::seccomp_release(ctx); });
    if (threads == SeccompThreads::all) {
        if (const int rc = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
            return Err(Error::with_errno(-rc, "seccomp_attr_set TSYNC " + what));
        }
    }
    for (const int nr : syscalls) {
        if (const int rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); rc != 0) {
            return Err(Error::with_errno(-rc, "seccomp_rule_add " + syscall_name(nr) + " " + what));
        }
    }
    for (const SeccompArgEquals& rule : arg_rules) {
        const scmp_arg_cmp equals{rule.arg, SCMP_CMP_EQ, rule.value, 0};
        if (const int rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, rule.nr, 1, equals); rc != 0) {
            return Err(Error::with_errno(-rc, "seccomp_rule_add " + syscall_name(rule.nr) +
                                                  " arg " + std::to_string(rule.arg) + " " + what));
        }
    }
    if (const int rc = ::seccomp_load(ctx); rc != 0) {
        return Err(Error::with_errno(-rc, "seccomp_load " + what));
    }
    return Ok();
}

} // namespace runvm
