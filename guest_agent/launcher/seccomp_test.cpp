// Seccomp translation checked by loading filters in forked children: runc's OR-split of
// conditions on one argument, and the refusal of user notification (listenerPath).
#include <csignal>

#include <boost/test/unit_test.hpp>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_agent/launcher/seccomp.hpp"
#include "oci/spec_json.hpp"

using namespace runvm;
using namespace runvm::agent;

namespace {
oci::Seccomp seccomp_from(const std::string& syscalls_json, const std::string& extra = "") {
    auto s = oci::parse_spec(R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"seccomp":
        {"defaultAction":"SCMP_ACT_ALLOW",)" +
                             extra + R"("syscalls":)" + syscalls_json + "}}}");
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().message()));
    return *s->linux->seccomp;
}

// Loads `filter` in a child (no-new-privs: no root needed) and returns, as a bit per
// signal, which of kill(self, sig) for sig in `signals` failed with EPERM.
unsigned denied_kills(const SeccompFilter& filter, std::initializer_list<int> signals) {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGUSR1, SIG_IGN);
        ::signal(SIGUSR2, SIG_IGN);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || !filter.load().ok()) {
            ::_exit(255);
        }
        unsigned bits = 0, bit = 1;
        for (int sig : signals) {
            if (::kill(::getpid(), sig) < 0 && errno == EPERM) {
                bits |= bit;
            }
            bit <<= 1;
        }
        ::_exit(static_cast<int>(bits));
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_REQUIRE(WIFEXITED(status));
    BOOST_REQUIRE(WEXITSTATUS(status) != 255);
    return static_cast<unsigned>(WEXITSTATUS(status));
}
} // namespace

BOOST_AUTO_TEST_CASE(seccomp_conditions_on_one_argument_or_like_runc) {
    // sig >= 10 OR sig <= 1 (runc's split); as one AND rule nothing would match.
    auto split = SeccompFilter::build(seccomp_from(R"([{"names":["kill"],
        "action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[
        {"index":1,"value":10,"op":"SCMP_CMP_GE"},{"index":1,"value":1,"op":"SCMP_CMP_LE"}]}])"));
    BOOST_REQUIRE_MESSAGE(split.ok(), (split.ok() ? std::string() : split.error().message()));
    // Signals 0 (<= 1), SIGUSR1 (10), SIGUSR2 (12) and SIGCONT (18) all match one half.
    BOOST_TEST(denied_kills(*split, {0, SIGUSR1, SIGUSR2, SIGCONT}) == 0b1111u);

    // Conditions on different arguments stay one rule: pid == 0 AND sig == SIGUSR1.
    auto anded = SeccompFilter::build(seccomp_from(R"([{"names":["kill"],
        "action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[
        {"index":1,"value":10,"op":"SCMP_CMP_EQ"},{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}])"));
    BOOST_REQUIRE(anded.ok());
    BOOST_TEST(denied_kills(*anded, {0, SIGUSR1}) == 0u); // our pid is never 0
}

BOOST_AUTO_TEST_CASE(seccomp_notify_is_refused_naming_the_field) {
    auto f =
        SeccompFilter::build(seccomp_from(R"([{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}])",
                                          R"("listenerPath":"/run/agent.sock",)"));
    BOOST_REQUIRE(!f.ok());
    BOOST_TEST(f.error().message().find("linux.seccomp.listenerPath") != std::string::npos);
    auto g =
        SeccompFilter::build(seccomp_from(R"([{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}])"));
    BOOST_REQUIRE(!g.ok());
    BOOST_TEST(g.error().message().find("linux.seccomp.syscalls[0].action") != std::string::npos);
    BOOST_TEST(g.error().message().find("not supported") != std::string::npos);
}
