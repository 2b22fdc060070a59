// Asks the kernel for what container programs commonly use, one line per feature:
// "<name> ok" or "<name> <errno name>". Run under runc and in a runvm guest, the two lists
// must match (tests/e2e/kernel_features.sh): the guest kernel is a container's kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/random.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

static void report(const char* name, long rc) {
    printf("%s %s\n", name, rc >= 0 ? "ok" : strerrorname_np(errno));
}

static long closing(long fd) {
    if (fd >= 0) {
        close((int)fd);
    }
    return fd;
}

int main(void) {
    int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    report("sysv_shm", shm);
    if (shm >= 0)
        shmctl(shm, IPC_RMID, NULL);
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    report("sysv_sem", sem);
    if (sem >= 0)
        semctl(sem, 0, IPC_RMID);
    int msg = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    report("sysv_msg", msg);
    if (msg >= 0)
        msgctl(msg, IPC_RMID, NULL);
    mqd_t mq = mq_open("/runvm-probe", O_CREAT | O_RDWR, 0600, NULL);
    report("posix_mq", mq);
    if (mq >= 0) {
        mq_close(mq);
        mq_unlink("/runvm-probe");
    }

    int mem = memfd_create("probe", MFD_CLOEXEC);
    report("memfd_create", mem);
    report("flock", flock(mem, LOCK_EX));
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
    report("fcntl_lock", fcntl(mem, F_SETLK, &lk));
    lk.l_start = 2; // not the byte the process holds: an OFD lock would conflict with it
    report("ofd_lock", fcntl(mem, F_OFD_SETLK, &lk));
    close(mem);

    report("inotify", closing(inotify_init1(IN_CLOEXEC)));
    report("fanotify", closing(fanotify_init(FAN_CLASS_NOTIF, O_RDONLY)));
    struct {
        struct file_handle h;
        unsigned char bytes[128];
    } fh = {.h.handle_bytes = 128};
    int mount_id = 0;
    errno = 0;
    long nh = syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc", &fh.h, &mount_id, 0);
    report("name_to_handle_at", nh < 0 && errno != ENOSYS ? 0 : nh); // the fs may refuse
    report("epoll", closing(epoll_create1(EPOLL_CLOEXEC)));
    report("eventfd", closing(eventfd(0, EFD_CLOEXEC)));
    report("timerfd", closing(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)));
    sigset_t none;
    sigemptyset(&none);
    report("signalfd", closing(signalfd(-1, &none, SFD_CLOEXEC)));
    report("pidfd_open", closing(syscall(SYS_pidfd_open, getpid(), 0)));

    aio_context_t ctx = 0;
    long aio = syscall(SYS_io_setup, 1, &ctx);
    report("aio", aio);
    if (aio == 0)
        syscall(SYS_io_destroy, ctx);
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    report("io_uring", closing(syscall(SYS_io_uring_setup, 1, &params)));

    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("madvise", madvise(page, 4096, MADV_DONTNEED));
    report("mlock", mlock(page, 4096));
    report("membarrier", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0));
    report("kcmp", syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0));
    errno = 0;
    long rs = syscall(SYS_rseq, NULL, 0, 0, 0); // glibc registered one: EINVAL, not ENOSYS
    report("rseq", rs < 0 && errno != ENOSYS ? 0 : rs);
    char buf[8];
    struct iovec local = {buf, sizeof buf}, remote = {page, sizeof buf};
    report("process_vm_readv", process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
    report("userfaultfd", closing(syscall(SYS_userfaultfd, O_CLOEXEC)));
    report("getrandom", getrandom(buf, sizeof buf, GRND_NONBLOCK));
    report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1));
    unsigned action = SECCOMP_RET_ERRNO;
    report("seccomp_filter", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));

    report("af_inet6", closing(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
    report("af_netlink", closing(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)));
    report("af_packet", closing(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
    report("af_unix_seqpacket", closing(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)));
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ip_mreqn join = {.imr_multiaddr.s_addr = htonl(0xe0000001)};
    report("ip_multicast", setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join));
    close(s);
    // A new network namespace's links: what the kernel makes in each (sit0, tunl0, ...).
    printf("net_links");
    struct if_nameindex* links = if_nameindex();
    for (struct if_nameindex* l = links; l && l->if_index != 0; ++l) {
        printf(" %s", l->if_name);
    }
    printf("\n");
    if_freenameindex(links);
    return 0;
}
