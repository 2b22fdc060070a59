// Unit tests of the launcher's pure parts: option tables, path joins, PATH lookup, cgroup
// conversions and plan errors; the fds a forked child keeps while it waits for start.
#include <cstdlib>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/exec_lookup.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/launcher/launch_plan.hpp"
#include "guest_agent/launcher/launcher.hpp"
#include "guest_agent/launcher/mount_options.hpp"
#include "guest_agent/launcher/process_setup.hpp"
#include "oci/spec_json.hpp"

using namespace runvm;
using namespace runvm::agent;

namespace {
std::string temp_dir() {
    char tmpl[] = "/tmp/agent-unit-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}

oci::Spec minimal_spec() {
    auto s = oci::parse_spec(R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/",
        "user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},
        "linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}})");
    BOOST_REQUIRE(s.ok());
    return *s;
}
} // namespace

BOOST_AUTO_TEST_CASE(mount_options_follow_runc) {
    auto o = parse_mount_options({"nosuid", "ro", "rw", "rbind", "rslave", "size=1m", "mode=755"});
    BOOST_TEST((o.flags & MS_NOSUID) != 0u);
    BOOST_TEST((o.flags & MS_RDONLY) == 0u); // "rw" after "ro" clears it
    BOOST_TEST(o.is_bind());
    BOOST_TEST((o.flags & MS_REC) != 0u);
    BOOST_REQUIRE_EQUAL(o.propagation.size(), 1u);
    BOOST_TEST(o.propagation[0] == static_cast<unsigned long>(MS_SLAVE | MS_REC));
    BOOST_TEST(o.data == "size=1m,mode=755");
    BOOST_TEST(!parse_propagation("sideways").ok());
    BOOST_TEST(*parse_propagation("rprivate") == static_cast<unsigned long>(MS_PRIVATE | MS_REC));
}

BOOST_AUTO_TEST_CASE(secure_join_stays_in_root) {
    const std::string root = temp_dir();
    BOOST_REQUIRE(::mkdir((root + "/etc").c_str(), 0755) == 0);
    BOOST_REQUIRE(::symlink("/../../../../etc", (root + "/escape").c_str()) == 0);
    BOOST_REQUIRE(::symlink("../..", (root + "/etc/up").c_str()) == 0);
    BOOST_REQUIRE(::symlink("loop", (root + "/loop").c_str()) == 0);
    BOOST_TEST(*secure_join(root, "/escape/passwd") == root + "/etc/passwd");
    BOOST_TEST(*secure_join(root, "/etc/up/etc/passwd") ==
               root + "/etc/passwd"); // up: "../.." stops at root
    BOOST_TEST(*secure_join(root, "../../a/./b") == root + "/a/b");
    BOOST_TEST(!secure_join(root, "/loop/x").ok());
    BOOST_TEST(clean_path("a//b/./c/../d") == "/a/b/d");
    BOOST_TEST(clean_path("/") == "/");
    std::system(("rm -rf " + root).c_str());
}

BOOST_AUTO_TEST_CASE(look_path_messages_match_runc) {
    auto missing = look_path("no-such-binary-xyz", "/usr/bin:/bin");
    BOOST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().message() ==
               "exec: \"no-such-binary-xyz\": executable file not found in $PATH");
    BOOST_TEST(*look_path("sh", "/nonexistent:/bin") == "/bin/sh");
    auto abs = look_path("/no/such", "");
    BOOST_REQUIRE(!abs.ok());
    BOOST_TEST(abs.error().message() ==
               "exec: \"/no/such\": stat /no/such: no such file or directory");
    BOOST_TEST(env_value({"A=1", "PATH=/x", "PATHX=2"}, "PATH") == "/x");
}

BOOST_AUTO_TEST_CASE(cgroup_v2_settings_convert_v1_fields) {
    oci::Resources r;
    r.memory = oci::MemoryResources{};
    r.memory->limit = 512 * 1024 * 1024;
    r.cpu = oci::CpuResources{};
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.pids = oci::PidsResources{};
    r.pids->limit = 64;
    auto s = cgroup_v2_settings(r);
    BOOST_REQUIRE(s.ok());
    std::map<std::string, std::string> m(s->begin(), s->end());
    BOOST_TEST(m["memory.max"] == "536870912");
    BOOST_TEST(m["cpu.weight"] == "39"); // runc: 1 + ((1024 - 2) * 9999) / 262142
    BOOST_TEST(m["cpu.max"] == "50000 100000");
    BOOST_TEST(m["pids.max"] == "64");
    r.cpu->shares = 1;
    auto bad = cgroup_v2_settings(r);
    BOOST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message().find("linux.resources.cpu.shares") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plan_errors_name_the_field) {
    auto spec = minimal_spec();
    spec.process->capabilities = oci::Capabilities{};
    spec.process->capabilities->bounding = std::vector<std::string>{"CAP_CHOWN", "CAP_BOGUS"};
    auto p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("process.capabilities.bounding") != std::string::npos);

    spec = minimal_spec();
    spec.linux->seccomp = oci::Seccomp{};
    spec.linux->seccomp->default_action = "SCMP_ACT_ALLOW";
    spec.linux->seccomp->syscalls = std::vector<oci::SeccompSyscall>{{}};
    (*spec.linux->seccomp->syscalls)[0].names = {"mkdir"};
    (*spec.linux->seccomp->syscalls)[0].action = "SCMP_ACT_EXPLODE";
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("linux.seccomp.syscalls[0].action") != std::string::npos);

    spec = minimal_spec();
    spec.hostname = "h";
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("UTS namespace") != std::string::npos);

    spec = minimal_spec();
    spec.linux->namespaces->push_back(oci::Namespace{"user", std::nullopt, {}});
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("linux.uidMappings") != std::string::npos);

    spec = minimal_spec();
    spec.process->rlimits = std::vector<oci::Rlimit>{{"RLIMIT_NOPE", 1, 1, {}}};
    p = plan_launch("c", "/b", "/b/rootfs", spec);
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message().find("process.rlimits[0].type") != std::string::npos);

    BOOST_TEST(plan_launch("c", "/b", "/b/rootfs", minimal_spec()).ok());
}

namespace {
// pipe2(O_CLOEXEC), as the agent opens every fd: [0] read end, [1] write end.
std::pair<UniqueFd, UniqueFd> cloexec_pipe() {
    int p[2];
    BOOST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// True when `fd` reads EOF within `ms` (every write end closed).
bool sees_eof(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) {
        return false;
    }
    char c;
    return ::read(fd, &c, 1) == 0;
}
} // namespace

BOOST_AUTO_TEST_CASE(close_fds_except_keeps_only_the_listed_fds) {
    auto [report_rd, report_wr] = cloexec_pipe();
    auto [other_rd, other_wr] = cloexec_pipe();
    // Kept fds side by side (50, 51), a gap (52, 53), one alone (54), one far above (300).
    std::vector<UniqueFd> dups;
    for (int fd : {50, 51, 52, 53, 54, 300}) {
        dups.emplace_back(::dup3(other_rd.get(), fd, O_CLOEXEC));
        BOOST_REQUIRE(dups.back().get() == fd);
    }
    dups.emplace_back(::dup3(report_wr.get(), 60, O_CLOEXEC));
    BOOST_REQUIRE(dups.back().get() == 60);
    constexpr int kFds = 400;
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        // report[fd]: 1 when fd is still open; report[kFds]: 1 when the call succeeded.
        unsigned char report[kFds + 1] = {};
        report[kFds] = close_fds_except({-1, 54, 51, 60, 50}).ok() ? 1 : 0;
        for (int fd = 0; fd < kFds; ++fd) {
            report[fd] = ::fcntl(fd, F_GETFD) >= 0 ? 1 : 0;
        }
        (void)!::write(60, report, sizeof report);
        ::_exit(0);
    }
    report_wr.reset();
    dups.clear();
    unsigned char report[kFds + 1] = {};
    BOOST_REQUIRE(::read(report_rd.get(), report, sizeof report) == sizeof report);
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(report[kFds] == 1);
    for (int fd = 0; fd < kFds; ++fd) {
        const bool kept = fd <= 2 || fd == 50 || fd == 51 || fd == 54 || fd == 60;
        BOOST_TEST((report[fd] == 1) == kept, "fd " << fd);
    }
}

// A created exec process waits for start before exec: it must not hold the agent's fds, or
// another process's stdin pipe would not reach EOF until this one starts (pod VMs).
BOOST_AUTO_TEST_CASE(a_waiting_process_holds_no_agent_fds) {
    BOOST_REQUIRE(Reaper::block_sigchld().ok());
    BOOST_REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    auto reaper = Reaper::start();
    BOOST_REQUIRE(reaper.ok());
    auto [agent_rd, agent_wr] = cloexec_pipe(); // another process's stdin pipe, say
    auto [stdin_rd, stdin_wr] = cloexec_pipe(); // this process's stdin
    oci::Process p;
    p.args = std::vector<std::string>{"/bin/sh", "-c", "read line && test \"$line\" = go"};
    p.env = std::vector<std::string>{"PATH=/usr/bin:/bin"};
    p.cwd = "/";
    p.user.uid = ::getuid();
    p.user.gid = ::getgid();
    auto process = plan_process(p, std::nullopt);
    BOOST_REQUIRE(process.ok());
    ExecPlan plan;
    plan.init_pid = ::getpid(); // our own namespaces: nothing to join
    plan.process = std::move(process).value();
    plan.stdio = StdioFds{stdin_rd.get(), -1, -1};
    const std::chrono::milliseconds timeout(10000);
    {
        auto c = ContainerProcess::create_exec(plan, **reaper, timeout);
        BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().str()));
        stdin_rd.reset();
        agent_wr.reset();
        BOOST_TEST(sees_eof(agent_rd.get(), 5000));         // the waiting child closed its copy
        BOOST_TEST(!(*reaper)->peek(c->pid()).has_value()); // ... and it still waits
        // Its own stdin (moved onto fd 0) still works after start.
        BOOST_REQUIRE(c->start(timeout).ok());
        BOOST_REQUIRE(::write(stdin_wr.get(), "go\n", 3) == 3);
        auto rec = (*reaper)->wait(c->pid(), timeout);
        BOOST_REQUIRE(rec.has_value());
        BOOST_TEST(shell_exit_status(rec->wait_status) == 0);
    }
    reaper->reset();
    BOOST_REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 0) == 0);
}
