// The lists: the loader and libc common to all, then what each program adds. The QEMU list is
// `strace -f` of QEMU 7.2 (TCG, microvm, vhost-user vsock/blk/fs/net) booting a guest through
// runvm, with the neighbours of each call glibc may pick instead (clone/clone3, poll/ppoll).
#include "jail/seccomp_profile.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include <seccomp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/seccomp_allow_list.hpp"

namespace runvm::jail {

namespace {

// execve of the program, ld.so mapping its libraries, glibc's start-up, threads, signals,
// time, and I/O on the fds a program holds.
constexpr int kCommon[] = {
    SCMP_SYS(execve),
    SCMP_SYS(brk),
    SCMP_SYS(arch_prctl),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(close),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(pipe2),
    SCMP_SYS(getcwd),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getrandom),
    SCMP_SYS(futex),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getresuid),
    SCMP_SYS(getresgid),
    SCMP_SYS(getgroups),
    SCMP_SYS(uname),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sched_yield),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(eventfd2),
    // AF_UNIX only (install_profile adds socket() with that argument check)
    SCMP_SYS(connect),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    // only narrows the filter: QEMU's -sandbox and the broker's own list stack on this one
    SCMP_SYS(seccomp),
    SCMP_SYS(prctl),
};

// QEMU 7.2 with TCG: its event loop (signalfd, timerfd, io_uring, libaio), guest RAM (memfd,
// NUMA policy calls of its host memory backend), the ROMs under /usr/share/qemu, thread
// names, and ioctl for -accel kvm.
constexpr int kQemu[] = {
    SCMP_SYS(memfd_create),    SCMP_SYS(ftruncate),         SCMP_SYS(fallocate),
    SCMP_SYS(fsync),           SCMP_SYS(fdatasync),         SCMP_SYS(statfs),
    SCMP_SYS(fstatfs),         SCMP_SYS(getdents64),        SCMP_SYS(fchdir),
    SCMP_SYS(get_mempolicy),   SCMP_SYS(set_mempolicy),     SCMP_SYS(mbind),
    SCMP_SYS(sysinfo),         SCMP_SYS(signalfd4),         SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),   SCMP_SYS(io_uring_setup),
    SCMP_SYS(io_uring_enter),  SCMP_SYS(io_uring_register), SCMP_SYS(io_setup),
    SCMP_SYS(io_submit),       SCMP_SYS(io_getevents),      SCMP_SYS(io_destroy),
    SCMP_SYS(ioctl),           SCMP_SYS(socketpair),        SCMP_SYS(bind),
    SCMP_SYS(listen),          SCMP_SYS(accept4),           SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),        SCMP_SYS(membarrier),        SCMP_SYS(mlock),
    SCMP_SYS(munlock),         SCMP_SYS(pselect6),          SCMP_SYS(rt_sigtimedwait),
};

// runvm-vmm: KVM ioctls, guest RAM, its signalfd loop and vCPU kicks, vhost-user sockets.
constexpr int kVmm[] = {
    SCMP_SYS(ioctl),
    SCMP_SYS(memfd_create),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fallocate),
    SCMP_SYS(signalfd4),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(socketpair),
    SCMP_SYS(sysinfo),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rename), // the control socket's snapshot: temporary files renamed into place
    // its control socket (a pooled VM saving its template: docs/design/fast-start.md)
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept4),
};

// runvm-broker: listening vhost-user and vsock sockets, its own capability and seccomp steps,
// and the file operations virtio-fs makes for the guest (docs/virtiofs.md).
constexpr int kBroker[] = {
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept4),
    SCMP_SYS(socketpair),
    SCMP_SYS(capget),
    SCMP_SYS(capset),
    SCMP_SYS(setgroups),
    SCMP_SYS(setresuid),
    SCMP_SYS(setresgid),
    SCMP_SYS(signalfd4),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(ioctl),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fallocate),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(statfs),
    SCMP_SYS(fstatfs),
    SCMP_SYS(getdents64),
    SCMP_SYS(fchdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(mknodat),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(renameat2),
    SCMP_SYS(linkat),
    SCMP_SYS(symlinkat),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(fchown),
    SCMP_SYS(fchownat),
    SCMP_SYS(utimensat),
    SCMP_SYS(fgetxattr),
    SCMP_SYS(fsetxattr),
    SCMP_SYS(flistxattr),
    // virtio-fs: LOOKUP resolves beneath the share (openat2), RENAME without flags is
    // renameat, xattrs by path through /proc/self/fd (fs::fs_extra_syscalls, helper B).
    SCMP_SYS(openat2),
    SCMP_SYS(renameat),
    SCMP_SYS(setxattr),
    SCMP_SYS(listxattr),
    SCMP_SYS(removexattr),
    SCMP_SYS(fremovexattr),
    SCMP_SYS(getxattr),
    SCMP_SYS(lgetxattr),
    SCMP_SYS(copy_file_range),
    SCMP_SYS(name_to_handle_at),
    SCMP_SYS(flock),
    SCMP_SYS(mount_setattr),
    SCMP_SYS(open_tree),
    SCMP_SYS(umask),
    SCMP_SYS(memfd_create),
};

constexpr int kForbidden[] = {
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(unshare),
    SCMP_SYS(setns),
    SCMP_SYS(ptrace),
    SCMP_SYS(bpf),
    SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load),
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(keyctl),
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(open_by_handle_at),
    SCMP_SYS(userfaultfd),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    SCMP_SYS(reboot),
    SCMP_SYS(acct),
    SCMP_SYS(personality),
    SCMP_SYS(chroot),
    SCMP_SYS(fsopen),
    SCMP_SYS(fsmount),
    SCMP_SYS(move_mount),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(kill),
    SCMP_SYS(tkill),
    SCMP_SYS(rt_sigqueueinfo),
    SCMP_SYS(rt_tgsigqueueinfo),
    SCMP_SYS(pidfd_send_signal),
    SCMP_SYS(pidfd_open),
    SCMP_SYS(pidfd_getfd),
};

} // namespace

std::vector<int> profile_syscalls(SeccompProfile profile) {
    std::span<const int> extra;
    switch (profile) {
    case SeccompProfile::none:
        return {};
    case SeccompProfile::qemu:
        extra = kQemu;
        break;
    case SeccompProfile::vmm:
        extra = kVmm;
        break;
    case SeccompProfile::broker:
        extra = kBroker;
        break;
    }
    std::vector<int> list(std::begin(kCommon), std::end(kCommon));
    list.insert(list.end(), extra.begin(), extra.end());
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    return list;
}

std::span<const int> forbidden_syscalls() {
    return kForbidden;
}

Result<void> install_profile(SeccompProfile profile) {
    if (profile == SeccompProfile::none) {
        return Ok();
    }
    const std::vector<int> allowed = profile_syscalls(profile);
    // Signals to its own threads only (pthread_kill, raise, abort): every jailed process of
    // every VM has the same uid, which would let one signal another. The exec keeps this pid.
    const SeccompArgEquals arg_rules[] = {
        {SCMP_SYS(socket), 0, AF_UNIX},
        {SCMP_SYS(tgkill), 0, static_cast<std::uint64_t>(::getpid())},
    };
    return load_seccomp_allow_list(
        "seccomp " + std::string(seccomp_profile_name(profile)) + " profile", allowed, arg_rules);
}

} // namespace runvm::jail
