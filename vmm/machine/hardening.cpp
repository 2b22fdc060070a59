// Capability drop (libcap) and per-thread seccomp allow-lists (libseccomp).
#include "vmm/machine/hardening.hpp"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "vmm/kvm/abi.hpp"

namespace runvm::vmm {

namespace {

// What every thread needs: memory for strings and logs, locks, signals, exiting.
const std::vector<int>& common_syscalls() {
    static const std::vector<int> calls = {
        SCMP_SYS(read),
        SCMP_SYS(write),
        SCMP_SYS(writev),
        SCMP_SYS(futex),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(exit),
        SCMP_SYS(exit_group),
        SCMP_SYS(brk),
        SCMP_SYS(mmap),
        SCMP_SYS(munmap),
        SCMP_SYS(mremap),
        SCMP_SYS(madvise),
        SCMP_SYS(clock_gettime),
        SCMP_SYS(gettid),
        SCMP_SYS(getpid),
        SCMP_SYS(sched_yield),
        SCMP_SYS(nanosleep),
        SCMP_SYS(clock_nanosleep),
        SCMP_SYS(poll),
        SCMP_SYS(ppoll),
        SCMP_SYS(sendmsg),
        SCMP_SYS(recvmsg),
        SCMP_SYS(recvfrom),
        SCMP_SYS(sendto),
        SCMP_SYS(tgkill),
        SCMP_SYS(fsync),
        SCMP_SYS(fdatasync),
        SCMP_SYS(newfstatat),
        SCMP_SYS(fstat),
        SCMP_SYS(lseek),
        SCMP_SYS(rseq),
    };
    return calls;
}

// Whether this thread's inheritable, permitted, effective and ambient sets are all empty, as
// /proc shows them (capget may be refused as capset is).
bool holds_no_capabilities() {
    const auto status = read_file("/proc/thread-self/status");
    if (!status) {
        return false;
    }
    int empty_sets = 0;
    for (const std::string_view line : split(*status, '\n')) {
        for (const std::string_view set : {"CapInh:", "CapPrm:", "CapEff:", "CapAmb:"}) {
            if (!line.starts_with(set)) {
                continue;
            }
            const std::string_view mask = line.substr(set.size());
            if (mask.find_first_not_of("0\t ") != std::string_view::npos ||
                mask.find('0') == std::string_view::npos) {
                return false;
            }
            ++empty_sets;
        }
    }
    return empty_sets == 4;
}

std::string hex_request(unsigned long request) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#lx", request);
    return buf;
}

} // namespace

Result<void> drop_capabilities() {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        // EINVAL: a capability this kernel does not know; nothing to drop.
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) {
            return Err(Error::from_errno("prctl PR_CAPBSET_DROP " + std::to_string(cap)));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        return Err(Error::from_errno("prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    cap_t empty = cap_init();
    if (empty == nullptr) {
        return Err(Error::from_errno("cap_init"));
    }
    const int rc = cap_set_proc(empty);
    const int err = errno;
    cap_free(empty);
    // Jailed, runvm-jail has emptied every set already and its vmm seccomp list refuses
    // capset (EPERM): there is nothing left to drop.
    if (rc != 0 && !(err == EPERM && holds_no_capabilities())) {
        return Err(Error::with_errno(err, "cap_set_proc (drop all capabilities)"));
    }
    return Ok();
}

Result<void> apply_seccomp(ThreadRole role) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == nullptr) {
        return Err(Error::msg("seccomp_init"));
    }
    struct Release {
        scmp_filter_ctx c;
        ~Release() { seccomp_release(c); }
    } release{ctx};
    auto allow = [&](int nr) -> Result<void> {
        const int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc != 0) {
            return Err(Error::with_errno(-rc, "seccomp_rule_add " + std::to_string(nr)));
        }
        return Ok();
    };
    for (int nr : common_syscalls()) {
        RUNVM_TRY(allow(nr));
    }
    if (role == ThreadRole::vcpu) {
        // A vCPU thread runs the guest; KVM_GET_REGS only reads its registers for the
        // report of a guest that KVM could not run.
        for (const unsigned long request : {static_cast<unsigned long>(KVM_RUN), KVM_GET_REGS}) {
            const int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                            SCMP_A1(SCMP_CMP_EQ, request));
            if (rc != 0) {
                return Err(Error::with_errno(
                    -rc, "seccomp_rule_add ioctl " +
                             std::string(request == KVM_RUN ? "KVM_RUN" : "KVM_GET_REGS")));
            }
        }
    } else {
        for (int nr : {SCMP_SYS(accept4), SCMP_SYS(close), SCMP_SYS(shutdown), SCMP_SYS(epoll_wait),
                       SCMP_SYS(epoll_pwait)}) {
            RUNVM_TRY(allow(nr));
        }
        // The control socket's snapshot: the state files (vmm/snapshot/memory_file.cpp) and
        // the KVM_GET_* ioctls of vmm/snapshot/vcpu_state.cpp and vm_state.cpp, nothing that
        // sets state or runs a vCPU.
        for (int nr : {SCMP_SYS(openat), SCMP_SYS(pwrite64), SCMP_SYS(ftruncate), SCMP_SYS(rename),
                       SCMP_SYS(unlink)}) {
            RUNVM_TRY(allow(nr));
        }
        for (const unsigned long request :
             {kvm::abi::kGetCpuid2, static_cast<unsigned long>(KVM_GET_MP_STATE),
              static_cast<unsigned long>(KVM_GET_REGS), static_cast<unsigned long>(KVM_GET_SREGS),
              kvm::abi::kGetXsave, static_cast<unsigned long>(KVM_GET_XCRS),
              static_cast<unsigned long>(KVM_GET_DEBUGREGS),
              static_cast<unsigned long>(KVM_GET_LAPIC), kvm::abi::kGetMsrs,
              static_cast<unsigned long>(KVM_GET_VCPU_EVENTS),
              static_cast<unsigned long>(KVM_GET_IRQCHIP), static_cast<unsigned long>(KVM_GET_PIT2),
              static_cast<unsigned long>(KVM_GET_CLOCK)}) {
            const int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                            SCMP_A1(SCMP_CMP_EQ, request));
            if (rc != 0) {
                return Err(
                    Error::with_errno(-rc, "seccomp_rule_add ioctl " + hex_request(request)));
            }
        }
    }
    const int rc = seccomp_load(ctx);
    if (rc != 0) {
        return Err(Error::with_errno(-rc, "seccomp_load"));
    }
    return Ok();
}

} // namespace runvm::vmm
