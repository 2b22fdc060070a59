// The state root's default: /run/runvm for root, $XDG_RUNTIME_DIR/runvm for anyone else,
// and an error naming XDG_RUNTIME_DIR when a non-root caller has none.
#include <boost/test/unit_test.hpp>

#include "shim/sandbox/vm_dirs.hpp"

using runvm::shim::default_state_root;

BOOST_AUTO_TEST_CASE(state_root_by_euid_and_xdg_runtime_dir) {
    BOOST_TEST(default_state_root(0, nullptr).value() == "/run/runvm");
    BOOST_TEST(default_state_root(0, "/run/user/0").value() == "/run/runvm"); // as runc
    BOOST_TEST(default_state_root(1000, "/run/user/1000").value() == "/run/user/1000/runvm");
    for (const char* bad : {static_cast<const char*>(nullptr), "", "relative/dir"}) {
        auto r = default_state_root(1000, bad);
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("XDG_RUNTIME_DIR") != std::string::npos);
        BOOST_TEST(r.error().str().find("uid 1000") != std::string::npos);
        BOOST_TEST(r.error().str().find("--root") != std::string::npos);
    }
}
