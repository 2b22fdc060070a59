// What the user namespace and idmapped mount tests share: the root precondition, a scratch
// directory, a forked check that reports one line back.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/unique_fd.hpp"

namespace runvm::jail::testing {

struct NeedsRoot {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(::geteuid() == 0);
        r.message() << "needs root";
        return r;
    }
};

// A failed Result's error for a test message (Boost builds the message before the check).
template <typename R>
std::string why(const R& r) {
    return r.ok() ? std::string() : r.error().str();
}

struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/runvm-jail-ns-test.XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
        // Walked by the namespace's root, which has no capability over host root's files.
        BOOST_TEST_REQUIRE(::chmod(tmpl, 0755) == 0);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

// Runs `check` in a forked child (the test process is single-threaded, so the child may do
// anything) and returns what it wrote to its report fd; "exit <n>" is appended when the child
// did not exit 0.
inline std::string in_child(const std::function<std::string()>& check) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    UniqueFd r(fds[0]);
    UniqueFd w(fds[1]);
    auto child = ChildProcess::fork_child("check", [&]() -> int {
        const std::string report = check();
        return ::write(w.get(), report.data(), report.size()) == static_cast<ssize_t>(report.size())
                   ? 0
                   : 1;
    });
    BOOST_TEST_REQUIRE(child.ok());
    w.reset();
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<size_t>(n));
    }
    auto status = child->wait();
    BOOST_TEST_REQUIRE(status.ok());
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
        out += " exit " + std::to_string(*status);
    }
    return out;
}

} // namespace runvm::jail::testing
