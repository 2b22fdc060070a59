// install_seccomp_filter: the allow-list of the broker after setup.
#include "broker/hardening/seccomp_filter.hpp"

#include <iterator>
#include <vector>

#include <seccomp.h>
#include <sys/socket.h>

#include "base/seccomp_allow_list.hpp"

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

Result<void> install_seccomp_filter(std::span<const int> extra,
                                    std::span<const SeccompArgEquals> extra_rules) {
    std::vector<int> allowed(std::begin(ALLOWED), std::end(ALLOWED));
    allowed.insert(allowed.end(), extra.begin(), extra.end());
    std::vector<SeccompArgEquals> arg_rules = {{SCMP_SYS(socket), 0, AF_UNIX}};
    arg_rules.insert(arg_rules.end(), extra_rules.begin(), extra_rules.end());
    return load_seccomp_allow_list("broker allow-list", allowed, arg_rules, SeccompThreads::all);
}

} // namespace runvm::broker
