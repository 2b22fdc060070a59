// install_seccomp_filter: the allow-list of the broker after setup.
#include "broker/hardening/seccomp_filter.hpp"

#include <cerrno>

#include <seccomp.h>
#include <sys/socket.h>

namespace runvm::broker {

namespace {

// Steady-state work only: no open, exec, fork, or network sockets.
constexpr int ALLOWED[] = {
    // I/O on fds the broker already holds (vhost-user, eventfds, images, logs, host sockets)
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(close),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(fcntl),
    SCMP_SYS(fdatasync),
    SCMP_SYS(fsync),
    SCMP_SYS(fallocate),
    // event loop
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    // vhost-user and vsock host sockets (socket itself: AF_UNIX only, below)
    SCMP_SYS(accept4),
    SCMP_SYS(connect),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    SCMP_SYS(shutdown),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    // guest memory tables and the allocator
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    // threads, time, signals, exit
    SCMP_SYS(futex),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(sched_yield),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(tgkill),
    // a device thread may still be starting when the filter lands (glibc 2.36 registers
    // rseq and the robust futex list first thing in a new thread)
    SCMP_SYS(rseq),
    SCMP_SYS(set_robust_list),
    // shutdown removes the broker's own socket files
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
};

} // namespace

Result<void> install_seccomp_filter(std::span<const int> extra) {
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (ctx == nullptr) {
        return Err(Error::msg("seccomp_init"));
    }
    Result<void> result;
    int rc = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    for (const int nr : ALLOWED) {
        if (rc == 0) {
            rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
    }
    for (const int nr : extra) {
        if (rc == 0) {
            rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
    }
    if (rc == 0) {
        rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    }
    if (rc == 0) {
        rc = ::seccomp_load(ctx);
        if (rc != 0) {
            result = Err(Error::with_errno(-rc, "seccomp_load broker allow-list"));
        }
    } else {
        result = Err(Error::with_errno(-rc, "seccomp_rule_add broker allow-list"));
    }
    ::seccomp_release(ctx);
    return result;
}

} // namespace runvm::broker
