// parse_jail_args: the options, their errors, and jail_argv read back.
#include <boost/test/unit_test.hpp>

#include "jail/jail_spec.hpp"

namespace runvm::jail {

namespace {

Result<JailSpec> parse(std::vector<std::string> args) {
    return parse_jail_args(args);
}

} // namespace

BOOST_AUTO_TEST_SUITE(jail_spec)

BOOST_AUTO_TEST_CASE(every_option) {
    auto spec = parse({"--root",        "/run/vm/jail-root",
                       "--user",        "runvm",
                       "--group-add",   "kvm",
                       "--bind",        "/run/vm/jail",
                       "--bind",        "/var/cache/image/vmlinuz:ro",
                       "--dev",         "kvm",
                       "--dev",         "null",
                       "--proc",        "--seccomp",
                       "vmm",           "--",
                       "/usr/bin/qemu", "-m",
                       "256M",          "--",
                       "--bind"});
    BOOST_TEST_REQUIRE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
    BOOST_TEST(spec->root == "/run/vm/jail-root");
    BOOST_TEST(spec->user == "runvm");
    BOOST_TEST(!spec->userns);
    BOOST_TEST(spec->group_add == std::vector<std::string>{"kvm"});
    BOOST_TEST((spec->binds == std::vector<BindSpec>{{"/run/vm/jail", false},
                                                     {"/var/cache/image/vmlinuz", true}}));
    BOOST_TEST(spec->devices == (std::vector<std::string>{"kvm", "null"}));
    BOOST_TEST(spec->proc);
    BOOST_TEST(seccomp_profile_name(spec->seccomp) == "vmm");
    // Everything after the first -- is the program's, options of ours included.
    BOOST_TEST(spec->program ==
               (std::vector<std::string>{"/usr/bin/qemu", "-m", "256M", "--", "--bind"}));
}

BOOST_AUTO_TEST_CASE(jail_argv_reads_back) {
    JailSpec spec;
    spec.root = "/r";
    spec.user = "runvm";
    spec.userns = true;
    spec.userns_host_ids = true;
    spec.ids = std::pair<uint32_t, uint32_t>{1879113730, 1879113731};
    spec.keep_caps = {"chown", "fowner"};
    spec.group_add = {"kvm"};
    spec.binds = {{"/a", true}, {"/b", false}};
    spec.idmap_binds = {"/shared"};
    spec.devices = {"null"};
    spec.proc = true;
    spec.keep_fds = {3, 17};
    spec.seccomp = SeccompProfile::broker;
    spec.program = {"/usr/bin/runvm-broker", "--vsock", "x"};
    const auto argv = jail_argv("/usr/bin/runvm-jail", spec);
    BOOST_TEST(argv.front() == "/usr/bin/runvm-jail");
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    auto back = parse_jail_args(args);
    BOOST_TEST_REQUIRE(back.ok(), (back.ok() ? "" : back.error().str()));
    BOOST_TEST((*back == spec));
}

BOOST_AUTO_TEST_CASE(errors_name_the_option) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--user", "runvm", "--", "/bin/true"}, "--root is required"},
        {{"--root", "/r", "--", "/bin/true"}, "--user is required"},
        {{"--root", "/r", "--user", "runvm"}, "no program: end the options with --"},
        {{"--root", "/r", "--user", "runvm", "--"}, "no program"},
        {{"--root", "/r", "--user", "runvm", "--", "true"}, "program true: must be an absolute"},
        {{"--root", "/r", "--user", "runvm", "--frob", "--", "/bin/true"}, "unknown option --frob"},
        {{"--root"}, "--root: needs a value"},
        {{"--root", "relative", "--user", "u", "--", "/bin/true"},
         "--root relative: must be an absolute, normalised path"},
        {{"--root", "/r", "--user", "u", "--bind", "/a/../etc", "--", "/bin/true"},
         "--bind /a/../etc: must be an absolute"},
        {{"--root", "/r", "--user", "u", "--bind", "/", "--", "/bin/true"}, "--bind /: must be"},
        {{"--root", "/r", "--user", "u", "--dev", "../sda", "--", "/bin/true"},
         "--dev ../sda: must name a file directly under /dev"},
        {{"--root", "/r", "--user", "u", "--seccomp", "none", "--", "/bin/true"},
         "--seccomp none: must be qemu, vmm or broker"},
        {{"--root", "/r", "--user", "u", "--idmap-bind", "/s", "--", "/bin/true"},
         "--idmap-bind needs --userns"},
        {{"--root", "/r", "--user", "u", "--userns-host-ids", "--", "/bin/true"},
         "--userns-host-ids needs --userns"},
        {{"--root", "/r", "--user", "u", "--keep-fd", "2", "--", "/bin/true"},
         "--keep-fd 2: must be a number above 2"},
        {{"--root", "/r", "--user", "u", "--keep-fd", "3x", "--", "/bin/true"},
         "--keep-fd 3x: must be a number"},
        {{"--root", "/r", "--user", "u", "--ids", "0:5", "--", "/bin/true"},
         "--ids 0:5: must be UID:GID, two ids other than 0"},
        {{"--root", "/r", "--user", "u", "--ids", "5", "--", "/bin/true"}, "--ids 5: must be"},
        {{"--root", "/r", "--user", "u", "--ids", "5:6x", "--", "/bin/true"}, "--ids 5:6x: must"},
        {{"--root", "/r", "--user", "u", "--ids", "4294967295:1", "--", "/bin/true"},
         "--ids 4294967295:1: must be"},
        {{"--root", "/r", "--user", "u", "--keep-cap", "chown", "--", "/bin/true"},
         "--keep-cap needs --userns (no host capability is ever kept)"},
        {{"--root", "/r", "--user", "u", "--userns", "--keep-cap", "CAP_CHOWN", "--", "/bin/true"},
         "--keep-cap CAP_CHOWN: must be a capability name such as chown"},
    };
    for (const auto& [args, want] : cases) {
        auto spec = parse(args);
        BOOST_TEST_REQUIRE(!spec.ok(), want);
        BOOST_TEST(spec.error().code() == EINVAL);
        BOOST_TEST(spec.error().message().find(want) != std::string::npos,
                   spec.error().message() << " should contain " << want);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
