// runvm-jail run for real: the program's uid, what it can open, its network namespace.
#include <cstdlib>
#include <filesystem>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "jail/jail_spec.hpp"

namespace runvm::jail {

namespace {

namespace utf = boost::unit_test;

struct NeedsRoot {
    boost::test_tools::assertion_result operator()(utf::test_unit_id) const {
        boost::test_tools::assertion_result r(::geteuid() == 0);
        r.message() << "needs root";
        return r;
    }
};

struct Ran {
    int status = -1; // exit status, or -1 when it did not exit
    std::string out;
    std::string err;
};

// A scratch directory holding the jail's root (empty) and the jailer's output files.
struct Scratch {
    std::string dir;
    Scratch() {
        char tmpl[] = "/tmp/runvm-jail-test.XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        BOOST_TEST_REQUIRE(::mkdir((dir + "/root").c_str(), 0755) == 0);
    }
    ~Scratch() { std::filesystem::remove_all(dir); }

    Ran jail(std::vector<std::string> options, const std::vector<std::string>& program) const {
        std::vector<std::string> argv = {RUNVM_JAIL_BINARY, "--root", dir + "/root"};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back("--");
        argv.insert(argv.end(), program.begin(), program.end());
        SpawnOptions spawn;
        spawn.stdin_null = true;
        spawn.stdout_path = dir + "/out";
        spawn.stderr_path = dir + "/err";
        ::unlink(spawn.stdout_path.c_str());
        ::unlink(spawn.stderr_path.c_str());
        auto child = ChildProcess::spawn(argv, spawn);
        BOOST_TEST_REQUIRE(child.ok());
        auto status = child->wait();
        BOOST_TEST_REQUIRE(status.ok());
        Ran ran;
        ran.status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
        ran.out = read_file(spawn.stdout_path).value_or("");
        ran.err = read_file(spawn.stderr_path).value_or("");
        while (!ran.out.empty() && ran.out.back() == '\n') {
            ran.out.pop_back();
        }
        return ran;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(jail_run)

BOOST_AUTO_TEST_CASE(a_missing_user_fails_first_with_status_125) {
    Scratch scratch;
    const Ran ran = scratch.jail({"--user", "runvm-no-such-user"}, {"/usr/bin/true"});
    BOOST_TEST(ran.status == kJailFailureStatus);
    BOOST_TEST(ran.err.find("user: jail user runvm-no-such-user does not exist "
                            "(scripts/setup.sh creates it)") != std::string::npos,
               ran.err);
}

BOOST_AUTO_TEST_CASE(runs_as_the_user, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    const Ran ran = scratch.jail({"--user", "nobody"}, {"/usr/bin/id", "-u"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "65534");
    // no capability left, in any set
    const Ran caps = scratch.jail({"--user", "nobody", "--proc"},
                                  {"/usr/bin/grep", "^Cap[EPIBA]", "/proc/self/status"});
    BOOST_TEST(caps.status == 0, caps.err);
    BOOST_TEST(caps.out == "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
                           "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
                           "CapAmb:\t0000000000000000");
}

BOOST_AUTO_TEST_CASE(shadow_is_not_readable, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    // Not there at all...
    Ran ran = scratch.jail({"--user", "nobody"}, {"/usr/bin/cat", "/etc/shadow"});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("No such file or directory") != std::string::npos, ran.err);
    // ...and refused by its mode when bound in: the jail user is not root.
    ran = scratch.jail({"--user", "nobody", "--bind", "/etc/shadow:ro"},
                       {"/usr/bin/cat", "/etc/shadow"});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("Permission denied") != std::string::npos, ran.err);
}

BOOST_AUTO_TEST_CASE(its_own_network_namespace, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    std::error_code ec;
    const auto host_net = std::filesystem::read_symlink("/proc/self/ns/net", ec);
    BOOST_TEST_REQUIRE(!ec);
    const Ran ran =
        scratch.jail({"--user", "nobody", "--proc"}, {"/usr/bin/readlink", "/proc/self/ns/net"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out.starts_with("net:["), ran.out);
    BOOST_TEST(ran.out != host_net.string());
}

BOOST_AUTO_TEST_CASE(host_abstract_socket_unreachable, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    const std::string name = "runvm-jail-test-" + std::to_string(::getpid());
    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_TEST_REQUIRE(listener.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(name.begin(), name.end(), addr.sun_path + 1); // sun_path[0] == 0: abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    BOOST_TEST_REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    BOOST_TEST_REQUIRE(::listen(listener.get(), 4) == 0);
    const std::string connect = "import socket, sys\n"
                                "s = socket.socket(socket.AF_UNIX)\n"
                                "try:\n"
                                "    s.connect('\\0" +
                                name +
                                "')\n"
                                "except OSError as e:\n"
                                "    print(e.strerror); sys.exit(3)\n";
    // The same connect from outside reaches it, so the jail's refusal is the jail's doing.
    const Ran outside = [&] {
        SpawnOptions spawn;
        spawn.stdout_path = scratch.dir + "/outside";
        auto child = ChildProcess::spawn({"/usr/bin/python3", "-c", connect}, spawn);
        BOOST_TEST_REQUIRE(child.ok());
        const int status = child->wait().value_or(-1);
        return Ran{WIFEXITED(status) ? WEXITSTATUS(status) : -1, "", ""};
    }();
    BOOST_TEST(outside.status == 0);
    const Ran ran = scratch.jail({"--user", "nobody"}, {"/usr/bin/python3", "-c", connect});
    BOOST_TEST(ran.status == 3, ran.err);
    BOOST_TEST(ran.out == "Connection refused");
}

BOOST_AUTO_TEST_CASE(seccomp_profile_runs_a_program_and_refuses_the_rest,
                     *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    Ran ran = scratch.jail({"--user", "nobody", "--seccomp", "qemu"}, {"/usr/bin/id", "-u"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "65534");
    // Another process of the same uid cannot be signalled: kill, nor tgkill to another pid.
    auto victim = ChildProcess::fork_child("victim", [] {
        if (::setresuid(65534, 65534, 65534) == 0) {
            ::pause();
        }
    });
    BOOST_TEST_REQUIRE(victim.ok());
    const std::string pid = std::to_string(victim->pid());
    ran = scratch.jail({"--user", "nobody", "--seccomp", "qemu"},
                       {"/usr/bin/python3", "-c",
                        "import ctypes, os\n"
                        "libc = ctypes.CDLL(None, use_errno=True)\n"
                        "r = libc.syscall(234, " +
                            pid + ", " + pid +
                            ", 0)\n" // tgkill
                            "print(r, os.strerror(ctypes.get_errno()), flush=True)\n"
                            "os.kill(" +
                            pid + ", 0)\n"});
    BOOST_TEST(ran.out == "-1 Operation not permitted", ran.out << ran.err);
    BOOST_TEST(ran.err.find("PermissionError") != std::string::npos, ran.err);
    BOOST_TEST(::kill(victim->pid(), 0) == 0);
    // Without the filter, the same uid may: the refusal above is the filter's.
    ran = scratch.jail({"--user", "nobody"}, {"/usr/bin/kill", "-0", pid});
    BOOST_TEST(ran.status == 0, ran.err);
    // A user namespace needs no privilege, but unshare is in no profile.
    ran = scratch.jail({"--user", "nobody", "--seccomp", "qemu"},
                       {"/usr/bin/unshare", "--user", "/usr/bin/true"});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("Operation not permitted") != std::string::npos, ran.err);
}

// An fd the caller leaked (not close-on-exec) stays outside; a --keep-fd one crosses.
BOOST_AUTO_TEST_CASE(only_kept_fds_cross_into_the_jail, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    UniqueFd leaked(::open("/dev/null", O_RDONLY)); // no O_CLOEXEC: inherited by the jailer
    UniqueFd kept(::open("/dev/null", O_RDONLY));
    BOOST_TEST_REQUIRE((leaked.valid() && kept.valid()));
    const std::string n = std::to_string(kept.get());
    const Ran ran = scratch.jail({"--user", "nobody", "--proc", "--keep-fd", n},
                                 {"/usr/bin/sh", "-c",
                                  "ls /proc/self/fd/" + std::to_string(leaked.get()) +
                                      " 2>/dev/null; ls /proc/self/fd/" + n});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "/proc/self/fd/" + n);
}

struct NeedsRootAndJailUser {
    boost::test_tools::assertion_result operator()(utf::test_unit_id) const {
        boost::test_tools::assertion_result r(::geteuid() == 0 && ::getpwnam("runvm") != nullptr);
        r.message() << "needs root and the jail user runvm with subordinate ids (scripts/setup.sh)";
        return r;
    }
};

// --userns: root inside a user namespace whose 0 is the jail user; host files of unmapped
// owners stay out of reach; an idmapped bind shows and makes files with their on-disk owners.
BOOST_AUTO_TEST_CASE(user_namespace_and_idmapped_bind, *utf::precondition(NeedsRootAndJailUser())) {
    Scratch scratch;
    const uid_t jail_uid = ::getpwnam("runvm")->pw_uid;
    Ran ran = scratch.jail(
        {"--user", "runvm", "--userns", "--proc"},
        {"/usr/bin/sh", "-c", "while read a b c; do echo $a $b $c; done </proc/self/uid_map"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "0 " + std::to_string(jail_uid) + " 1\n1 1879048192 65535");
    ran = scratch.jail({"--user", "runvm", "--userns", "--proc"},
                       {"/usr/bin/cat", "/proc/self/status"});
    BOOST_TEST(ran.out.find("Uid:\t0\t0\t0\t0") != std::string::npos, ran.out);
    BOOST_TEST(ran.out.find("NoNewPrivs:\t1") != std::string::npos, ran.out);
    ran = scratch.jail({"--user", "runvm", "--userns", "--bind", "/etc/shadow:ro"},
                       {"/usr/bin/cat", "/etc/shadow"});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("Permission denied") != std::string::npos, ran.err);

    const std::string share = scratch.dir + "/share";
    BOOST_TEST_REQUIRE(::mkdir(share.c_str(), 0755) == 0);
    ran = scratch.jail({"--user", "runvm", "--userns", "--idmap-bind", share},
                       {"/usr/bin/sh", "-c",
                        "touch " + share + "/by-root && chown 1000:1000 " + share +
                            "/by-root && stat -c %u " + share});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "0"); // on disk root's, seen as the namespace's root
    struct stat st {};
    BOOST_TEST(::stat((share + "/by-root").c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 1000u); // what the guest's chown asked for, as with runc
    ran = scratch.jail(
        {"--user", "runvm", "--userns", "--idmap-bind", share, "--group-add", "nogroup"},
        {"/usr/bin/true"});
    BOOST_TEST(ran.status == kJailFailureStatus);
    BOOST_TEST(ran.err.find("--group-add: no host groups in a user namespace") != std::string::npos,
               ran.err);
}

// --ids: the VM's own ids instead of the user's; with --userns-host-ids the program is that uid
// in an identity-mapped namespace, not its root, and keeps only --keep-cap, as ambient
// capabilities (so an exec keeps them too), which act on host files' owners as mapped there.
BOOST_AUTO_TEST_CASE(its_own_ids_and_kept_capabilities_with_host_ids,
                     *utf::precondition(NeedsRootAndJailUser())) {
    Scratch scratch;
    Ran ran = scratch.jail({"--user", "runvm", "--ids", "1879113730:1879113731", "--proc"},
                           {"/usr/bin/grep", "-E", "^(Uid|Gid|CapEff)", "/proc/self/status"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "Uid:\t1879113730\t1879113730\t1879113730\t1879113730\n"
                          "Gid:\t1879113731\t1879113731\t1879113731\t1879113731\n"
                          "CapEff:\t0000000000000000");
    const std::string share = scratch.dir + "/share";
    BOOST_TEST_REQUIRE(::mkdir(share.c_str(), 0755) == 0);
    const std::vector<std::string> host_ids = {"--user",       "runvm",
                                               "--ids",        "1879113730:1879113730",
                                               "--userns",     "--userns-host-ids",
                                               "--keep-cap",   "chown",
                                               "--keep-cap",   "dac_override",
                                               "--keep-cap",   "fowner",
                                               "--keep-cap",   "fsetid",
                                               "--idmap-bind", share,
                                               "--proc"};
    ran = scratch.jail(host_ids, {"/usr/bin/grep", "-E", "^(Uid|Cap(Prm|Eff|Bnd|Amb)|NoNewPrivs)",
                                  "/proc/self/status"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "Uid:\t1879113730\t1879113730\t1879113730\t1879113730\n"
                          "CapPrm:\t000000000000001b\nCapEff:\t000000000000001b\n"
                          "CapBnd:\t000000000000001b\nCapAmb:\t000000000000001b\n"
                          "NoNewPrivs:\t1");
    // Root's 0600 file, and a chown to 1000, through the kept capabilities.
    const std::string secret = share + "/root-only";
    BOOST_TEST_REQUIRE(write_file_atomic(secret, "root\n", 0600).ok());
    ran = scratch.jail(host_ids, {"/usr/bin/sh", "-c",
                                  "cat " + secret + " && touch " + share +
                                      "/made && chown 1000:1000 " + share + "/made"});
    BOOST_TEST(ran.status == 0, ran.err);
    BOOST_TEST(ran.out == "root");
    struct stat st {};
    BOOST_TEST(::stat((share + "/made").c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 1000u);
    // Nothing kept: as that uid it has no capability and root's file is out of reach.
    ran = scratch.jail({"--user", "runvm", "--ids", "1879113730:1879113730", "--userns",
                        "--userns-host-ids", "--idmap-bind", share},
                       {"/usr/bin/cat", secret});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("Permission denied") != std::string::npos, ran.err);
}

BOOST_AUTO_TEST_CASE(root_is_read_only_and_binds_keep_their_mode, *utf::precondition(NeedsRoot())) {
    Scratch scratch;
    const std::string rw = scratch.dir + "/rw";
    BOOST_TEST_REQUIRE(::mkdir(rw.c_str(), 0777) == 0);
    BOOST_TEST_REQUIRE(::chmod(rw.c_str(), 0777) == 0);
    Ran ran = scratch.jail({"--user", "nobody", "--bind", rw},
                           {"/usr/bin/touch", rw + "/made", "/made-in-root"});
    BOOST_TEST(ran.status != 0);
    BOOST_TEST(ran.err.find("/made-in-root': Read-only file system") != std::string::npos, ran.err);
    struct stat st {};
    BOOST_TEST(::stat((rw + "/made").c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 65534u);
    ran =
        scratch.jail({"--user", "nobody", "--bind", rw + ":ro"}, {"/usr/bin/touch", rw + "/again"});
    BOOST_TEST(ran.err.find("Read-only file system") != std::string::npos, ran.err);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
