// load_seccomp_allow_list in forked children: what is listed runs, what is not fails with EPERM,
// an argument rule allows one value only, TSYNC reaches a thread started before the load.
#include <atomic>
#include <cerrno>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/seccomp_allow_list.hpp"

using namespace runvm;

namespace {

// What every child needs after its filter: its checks, the allocator and thread exit.
constexpr int kBasics[] = {
    SCMP_SYS(getpid),  SCMP_SYS(exit),   SCMP_SYS(exit_group), SCMP_SYS(futex),
    SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(brk),        SCMP_SYS(close),
};

// The child's exit code: 0 when every check passed, else the number of the first that failed
// (a signal shows as 128 + its number). The filter stays in the child.
template <class Fn>
int in_child(Fn&& body) {
    auto child = ChildProcess::fork_child("seccomp test child", std::forward<Fn>(body));
    BOOST_REQUIRE(child.ok());
    const int status = child->wait().value();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The raw syscall, so no libc wrapper or cache stands between the test and the filter.
bool denied_with_eperm(long nr) {
    errno = 0;
    return ::syscall(nr) == -1 && errno == EPERM;
}

} // namespace

BOOST_AUTO_TEST_SUITE(seccomp_allow_list)

BOOST_AUTO_TEST_CASE(unlisted_syscalls_fail_with_eperm_and_listed_ones_run) {
    BOOST_TEST(in_child([] {
                   const pid_t pid = ::getpid();
                   if (!load_seccomp_allow_list("test", kBasics).ok()) {
                       return 1;
                   }
                   if (!denied_with_eperm(SYS_getppid) || !denied_with_eperm(SYS_getuid)) {
                       return 2;
                   }
                   return ::syscall(SYS_getpid) == pid ? 0 : 3;
               }) == 0);
    // Without a filter the same child may call getppid: the EPERM above is the filter's.
    BOOST_TEST(in_child([] { return denied_with_eperm(SYS_getppid) ? 1 : 0; }) == 0);
}

BOOST_AUTO_TEST_CASE(an_argument_rule_allows_that_value_only) {
    BOOST_TEST(in_child([] {
                   const SeccompArgEquals unix_only[] = {{SCMP_SYS(socket), 0, AF_UNIX}};
                   if (!load_seccomp_allow_list("test", kBasics, unix_only).ok()) {
                       return 1;
                   }
                   const int unix_socket = ::socket(AF_UNIX, SOCK_STREAM, 0);
                   if (unix_socket < 0) {
                       return 2;
                   }
                   ::close(unix_socket);
                   errno = 0;
                   return ::socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM ? 0 : 3;
               }) == 0);
}

// A thread already running when the filter loads: filtered with SeccompThreads::all only.
BOOST_AUTO_TEST_CASE(all_threads_filters_a_thread_started_before_the_load) {
    for (const SeccompThreads threads : {SeccompThreads::all, SeccompThreads::caller}) {
        BOOST_TEST_CONTEXT("threads " << static_cast<int>(threads)) {
            BOOST_TEST(in_child([threads] {
                           std::atomic<bool> started{false};
                           std::atomic<bool> loaded{false};
                           std::atomic<bool> denied{false};
                           std::thread peer([&] {
                               started = true;
                               started.notify_all();
                               loaded.wait(false);
                               denied = denied_with_eperm(SYS_getppid);
                           });
                           // Past glibc's start-up of the thread (rseq, set_robust_list).
                           started.wait(false);
                           const bool ok =
                               load_seccomp_allow_list("test", kBasics, {}, threads).ok();
                           loaded = true;
                           loaded.notify_all();
                           peer.join();
                           if (!ok) {
                               return 1;
                           }
                           return denied == (threads == SeccompThreads::all) ? 0 : 2;
                       }) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_rule_libseccomp_refuses_names_the_syscall_and_loads_nothing) {
    BOOST_TEST(in_child([] {
                   const int bad[] = {SCMP_SYS(getpid), -5};
                   const auto r = load_seccomp_allow_list("test list", bad);
                   if (r.ok() || r.error().code() != EINVAL ||
                       r.error().message() != "seccomp_rule_add syscall -5 test list") {
                       return 1;
                   }
                   return denied_with_eperm(SYS_getppid) ? 2 : 0;
               }) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
