// keep_only_fs_capabilities (libcap, prctl) and the fs device's syscall list.
#include "broker/devices/fs/hardening.hpp"

#include <cerrno>
#include <string>

#include <linux/capability.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

namespace runvm::broker::fs {

namespace {

constexpr cap_value_t KEPT[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID};

} // namespace

Result<void> keep_only_fs_capabilities() {
    cap_t current = ::cap_get_proc();
    if (current == nullptr) {
        return Err(Error::from_errno("cap_get_proc"));
    }
    cap_t kept = ::cap_init();
    if (kept == nullptr) {
        const int err = errno;
        ::cap_free(current);
        return Err(Error::with_errno(err, "cap_init"));
    }
    for (const cap_value_t cap : KEPT) {
        cap_flag_value_t have = CAP_CLEAR;
        ::cap_get_flag(current, cap, CAP_PERMITTED, &have);
        if (have == CAP_SET) {
            ::cap_set_flag(kept, CAP_PERMITTED, 1, &cap, CAP_SET);
            ::cap_set_flag(kept, CAP_EFFECTIVE, 1, &cap, CAP_SET);
        }
    }
    ::cap_free(current);
    // The bounding set first (dropping it needs CAP_SETPCAP, which goes next).
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        bool keep = false;
        for (const cap_value_t k : KEPT) {
            keep = keep || cap == k;
        }
        if (!keep && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
            errno != EPERM) {
            const int err = errno;
            ::cap_free(kept);
            return Err(Error::with_errno(err, "prctl PR_CAPBSET_DROP " + std::to_string(cap)));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        const int err = errno;
        ::cap_free(kept);
        return Err(Error::with_errno(err, "prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    const int rc = ::cap_set_proc(kept);
    const int err = errno;
    ::cap_free(kept);
    if (rc < 0) {
        return Err(Error::with_errno(err, "cap_set_proc (fs set)"));
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return Err(Error::from_errno("prctl PR_SET_NO_NEW_PRIVS"));
    }
    return Ok();
}

const std::vector<int>& fs_extra_syscalls() {
    static const std::vector<int> list = {
        SCMP_SYS(openat),          SCMP_SYS(openat2),   SCMP_SYS(getdents64), SCMP_SYS(fstatfs),
        SCMP_SYS(statx),           SCMP_SYS(mkdirat),   SCMP_SYS(mknodat),    SCMP_SYS(symlinkat),
        SCMP_SYS(linkat),          SCMP_SYS(renameat),  SCMP_SYS(renameat2),  SCMP_SYS(unlinkat),
        SCMP_SYS(readlinkat),      SCMP_SYS(fchmod),    SCMP_SYS(fchmodat),   SCMP_SYS(fchownat),
        SCMP_SYS(ftruncate),       SCMP_SYS(utimensat), SCMP_SYS(faccessat),  SCMP_SYS(faccessat2),
        SCMP_SYS(copy_file_range), SCMP_SYS(getxattr),  SCMP_SYS(setxattr),   SCMP_SYS(listxattr),
        SCMP_SYS(removexattr),     SCMP_SYS(umask),
    };
    return list;
}

} // namespace runvm::broker::fs
