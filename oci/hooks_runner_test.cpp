// The OCI hook runner both the host and the guest use: state on stdin, order, timeouts,
// the errors that name a failed hook.
#define BOOST_TEST_MODULE oci_hooks
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "oci/hooks_runner.hpp"

using namespace runvm;
using namespace runvm::oci;
using namespace std::chrono_literals;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "runvm-hooks-XXXXXX").string();
        path = ::mkdtemp(t.data()) ? t : "";
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};
std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
} // namespace

BOOST_AUTO_TEST_CASE(hooks_get_the_state_on_stdin_in_order) {
    TempDir d;
    const std::string log = d.path + "/log";
    oci::Hook a;
    a.path = "/bin/sh";
    a.args = std::vector<std::string>{"sh", "-c", "cat >> " + log + "; echo >> " + log};
    oci::Hook b;
    b.path = "/bin/sh";
    b.args = std::vector<std::string>{"sh", "-c", "echo \"second $X\" >> " + log};
    b.env = std::vector<std::string>{"X=y"};
    BOOST_REQUIRE(run_hooks(std::vector<oci::Hook>{a, b}, "prestart", R"({"id":"c"})").ok());
    BOOST_TEST(slurp(log) == "{\"id\":\"c\"}\nsecond y\n");
}

BOOST_AUTO_TEST_CASE(a_hook_that_ignores_its_stdin_neither_blocks_nor_kills_the_caller) {
    // Larger than a pipe's buffer, and SIGPIPE left at its default action: with the state
    // on a pipe this would block until the timeout or kill the test process.
    ::signal(SIGPIPE, SIG_DFL);
    const std::string state(1 << 20, 'x');
    oci::Hook ignores;
    ignores.path = "/bin/true";
    ignores.timeout = 5;
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{ignores}, "prestart", state).ok());
    oci::Hook counts;
    counts.path = "/bin/sh";
    counts.args = std::vector<std::string>{"sh", "-c", "test $(wc -c) = 1048576"};
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{counts}, "prestart", state).ok());
}

BOOST_AUTO_TEST_CASE(failing_and_slow_hooks_are_reported) {
    oci::Hook fails;
    fails.path = "/bin/false";
    auto r = run_hooks(std::vector<oci::Hook>{fails}, "createRuntime", "{}");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("createRuntime hook 0 (/bin/false) failed") !=
               std::string::npos);
    oci::Hook slow;
    slow.path = "/bin/sleep";
    slow.args = std::vector<std::string>{"sleep", "10"};
    slow.timeout = 1;
    const auto t0 = std::chrono::steady_clock::now();
    auto t = run_hooks(std::vector<oci::Hook>{slow}, "poststart", "{}");
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().code() == ETIMEDOUT);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    oci::Hook missing;
    missing.path = "/no/such/hook";
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{missing}, "prestart", "{}")
                   .error()
                   .str()
                   .find("cannot execute /no/such/hook") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(create_hooks_run_prestart_then_create_runtime_and_stop_at_a_failure) {
    TempDir d;
    const std::string log = d.path + "/log";
    auto logging = [&](const std::string& word) {
        oci::Hook h;
        h.path = "/bin/sh";
        h.args = std::vector<std::string>{"sh", "-c", "echo " + word + " >> " + log};
        return h;
    };
    oci::Hooks hooks;
    hooks.create_runtime = std::vector<oci::Hook>{logging("createRuntime")};
    hooks.prestart = std::vector<oci::Hook>{logging("prestart")};
    BOOST_REQUIRE(run_create_hooks(hooks, "{}").ok());
    BOOST_TEST(slurp(log) == "prestart\ncreateRuntime\n");
    BOOST_TEST(run_create_hooks(std::nullopt, "{}").ok());

    oci::Hook fails;
    fails.path = "/bin/false";
    hooks.prestart->push_back(fails);
    const auto failed = run_create_hooks(hooks, "{}");
    BOOST_REQUIRE(!failed.ok());
    BOOST_TEST(failed.error().str().find("prestart hook 1 (/bin/false)") != std::string::npos);
    BOOST_TEST(slurp(log) == "prestart\ncreateRuntime\nprestart\n"); // createRuntime did not run
}
