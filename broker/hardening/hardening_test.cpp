// The broker's hardening in a child process: after drop_all_capabilities and the seccomp
// filter, capget shows nothing, and forbidden syscalls (execve, socket(AF_INET), open)
// fail with EPERM while allowed ones still work.
#define BOOST_TEST_MODULE broker_hardening
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/hardening/capabilities.hpp"
#include "broker/hardening/seccomp_filter.hpp"

using namespace runvm::broker;

namespace {

// Runs `body` in a forked child; the child's exit code is the number of failed checks.
int in_child(int (*body)()) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

int hardened_child() {
    int failures = 0;
    if (!drop_all_capabilities().ok()) {
        return 50;
    }
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) {
        ++failures;
    }
    for (const auto& d : data) {
        failures += (d.effective | d.permitted | d.inheritable) != 0 ? 1 : 0;
    }
    if (!install_seccomp_filter().ok()) {
        return 51;
    }
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    failures += (::execve("/bin/true", argv, nullptr) == -1 && errno == EPERM) ? 0 : 1;
    failures += (::socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM) ? 0 : 1;
    failures += (::open("/etc/hostname", O_RDONLY) == -1 && errno == EPERM) ? 0 : 1;
    const int unix_sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    failures += unix_sock >= 0 ? 0 : 1;
    ::close(unix_sock);
    return failures;
}

} // namespace

BOOST_AUTO_TEST_CASE(forbidden_syscalls_are_refused_after_hardening) {
    BOOST_TEST(in_child(hardened_child) == 0);
}
