// Reinit's checks and the order, arguments and error names of its syscalls, through a
// recorder: nothing here reseeds, re-clocks or renames the machine the test runs on.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <linux/random.h>
#include <unistd.h>

#include "guest_agent/service/identity.hpp"
#include "guest_agent/service/status_map.hpp"

using namespace runvm;
using namespace runvm::agent;
namespace pb = runvm::agent::v1;

namespace {

struct Recorder {
    std::vector<std::string> calls;
    std::map<std::string, int> fail; // call name -> errno it fails with
    std::string path;
    int flags = 0;
    int entropy_bits = -1;
    std::string entropy; // the bytes RNDADDENTROPY was given
    timespec ts{};
    std::string hostname;

    bool failing(const std::string& name) {
        calls.push_back(name);
        auto it = fail.find(name);
        if (it == fail.end()) {
            return false;
        }
        errno = it->second;
        return true;
    }

    IdentitySyscalls syscalls() {
        IdentitySyscalls s;
        s.open = [this](const char* p, int f) {
            path = p;
            flags = f;
            // A real fd, so the UniqueFd that takes it closes nothing of anyone else's.
            return failing("open") ? -1 : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        };
        s.ioctl = [this](int, unsigned long request, const void* arg) {
            if (request == RNDADDENTROPY) {
                int bits = 0;
                int size = 0;
                const auto* p = static_cast<const unsigned char*>(arg);
                std::memcpy(&bits, p, sizeof bits);
                std::memcpy(&size, p + sizeof bits, sizeof size);
                entropy_bits = bits;
                entropy.assign(p + offsetof(rand_pool_info, buf),
                               p + offsetof(rand_pool_info, buf) + size);
                return failing("RNDADDENTROPY") ? -1 : 0;
            }
            if (request == RNDRESEEDCRNG && arg == nullptr) {
                return failing("RNDRESEEDCRNG") ? -1 : 0;
            }
            calls.push_back("unexpected ioctl " + std::to_string(request));
            return -1;
        };
        s.clock_settime = [this](clockid_t clock, const timespec& t) {
            ts = t;
            return failing(clock == CLOCK_REALTIME ? "clock_settime" : "clock_settime other") ? -1
                                                                                              : 0;
        };
        s.sethostname = [this](const std::string& name) {
            hostname = name;
            return failing("sethostname") ? -1 : 0;
        };
        return s;
    }
};

pb::ReinitRequest request() {
    pb::ReinitRequest req;
    std::string bytes;
    for (int i = 0; i < 32; ++i) {
        bytes.push_back(static_cast<char>(0xa0 + i));
    }
    req.set_host_random(bytes);
    req.set_realtime_ns(1'796'615'478'123'456'789);
    req.set_hostname("sandbox-1");
    return req;
}

} // namespace

BOOST_AUTO_TEST_CASE(reinit_order_and_arguments) {
    Recorder rec;
    const pb::ReinitRequest req = request();
    BOOST_REQUIRE(check_reinit(req).ok());
    auto r = apply_reinit(req, rec.syscalls());
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    const std::vector<std::string> order = {"open", "RNDADDENTROPY", "RNDRESEEDCRNG",
                                            "clock_settime", "sethostname"};
    BOOST_TEST(rec.calls == order, boost::test_tools::per_element());
    BOOST_TEST(rec.path == "/dev/urandom");
    BOOST_TEST((rec.flags & O_CLOEXEC) != 0);
    BOOST_TEST(rec.entropy_bits == 256);
    BOOST_TEST(rec.entropy == req.host_random());
    BOOST_TEST(rec.ts.tv_sec == 1'796'615'478);
    BOOST_TEST(rec.ts.tv_nsec == 123'456'789);
    BOOST_TEST(rec.hostname == "sandbox-1");

    // 256 bytes: 2048 bits, every byte passed on (the block is not cut at a word).
    Recorder big;
    pb::ReinitRequest most = req;
    most.set_host_random(std::string(255, 'x') + "y");
    BOOST_REQUIRE(check_reinit(most).ok());
    BOOST_REQUIRE(apply_reinit(most, big.syscalls()).ok());
    BOOST_TEST(big.entropy_bits == 2048);
    BOOST_TEST(big.entropy == most.host_random());
}

BOOST_AUTO_TEST_CASE(reinit_leaves_clock_and_hostname_when_unset) {
    Recorder rec;
    pb::ReinitRequest req = request();
    req.set_realtime_ns(0);
    req.clear_hostname();
    BOOST_REQUIRE(check_reinit(req).ok());
    BOOST_REQUIRE(apply_reinit(req, rec.syscalls()).ok());
    const std::vector<std::string> order = {"open", "RNDADDENTROPY", "RNDRESEEDCRNG"};
    BOOST_TEST(rec.calls == order, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reinit_errors_name_the_call_and_stop) {
    const std::map<std::string, std::string> expected = {
        {"open", "open /dev/urandom: No such file or directory"},
        {"RNDADDENTROPY", "RNDADDENTROPY /dev/urandom (256 bits): No such file or directory"},
        {"RNDRESEEDCRNG", "RNDRESEEDCRNG /dev/urandom: No such file or directory"},
        {"clock_settime",
         "clock_settime CLOCK_REALTIME 1796615478123456789 ns: No such file or directory"},
        {"sethostname", "sethostname sandbox-1: No such file or directory"},
    };
    const std::vector<std::string> order = {"open", "RNDADDENTROPY", "RNDRESEEDCRNG",
                                            "clock_settime", "sethostname"};
    for (size_t i = 0; i < order.size(); ++i) {
        Recorder rec;
        rec.fail[order[i]] = ENOENT;
        auto r = apply_reinit(request(), rec.syscalls());
        BOOST_REQUIRE_MESSAGE(!r.ok(), order[i] << " failing: Reinit succeeded");
        BOOST_TEST(r.error().code() == ENOENT);
        BOOST_TEST(r.error().str() == expected.at(order[i]));
        // Nothing after the failed call runs.
        const std::vector<std::string> made(order.begin(),
                                            order.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        BOOST_TEST(rec.calls == made, boost::test_tools::per_element());
    }
    Recorder perm;
    perm.fail["RNDADDENTROPY"] = EPERM;
    auto r = apply_reinit(request(), perm.syscalls());
    BOOST_REQUIRE(!r.ok());
    const rpc::Status st = to_status(r.error(), "Reinit");
    BOOST_TEST(st.code == rpc::kInternal);
    BOOST_TEST(st.message ==
               "Reinit: RNDADDENTROPY /dev/urandom (256 bits): Operation not permitted");
}

BOOST_AUTO_TEST_CASE(reinit_refuses_bad_fields) {
    struct Case {
        std::string what;
        std::function<void(pb::ReinitRequest&)> edit;
        std::string field;
    };
    const std::vector<Case> cases = {
        {"no random bytes", [](pb::ReinitRequest& r) { r.clear_host_random(); }, "host_random"},
        {"31 bytes", [](pb::ReinitRequest& r) { r.set_host_random(std::string(31, 'r')); },
         "host_random"},
        {"257 bytes", [](pb::ReinitRequest& r) { r.set_host_random(std::string(257, 'r')); },
         "host_random"},
        {"negative time", [](pb::ReinitRequest& r) { r.set_realtime_ns(-1); }, "realtime_ns"},
        {"65-byte hostname", [](pb::ReinitRequest& r) { r.set_hostname(std::string(65, 'h')); },
         "hostname"},
        {"slash", [](pb::ReinitRequest& r) { r.set_hostname("a/b"); }, "hostname"},
        {"NUL", [](pb::ReinitRequest& r) { r.set_hostname(std::string("a\0b", 3)); }, "hostname"},
    };
    for (const Case& c : cases) {
        pb::ReinitRequest req = request();
        c.edit(req);
        auto r = check_reinit(req);
        BOOST_REQUIRE_MESSAGE(!r.ok(), c.what << ": accepted");
        const rpc::Status st = to_status(r.error(), "Reinit");
        BOOST_TEST(st.code == rpc::kInvalidArgument, c.what);
        BOOST_TEST(st.message.rfind("Reinit: " + c.field + ": ", 0) == 0,
                   c.what << ": " << st.message);
    }
    pb::ReinitRequest edges = request();
    edges.set_host_random(std::string(256, 'r'));
    edges.set_hostname(std::string(64, 'h'));
    BOOST_TEST(check_reinit(edges).ok());
    edges.set_host_random(std::string(32, 'r'));
    edges.set_hostname("x");
    BOOST_TEST(check_reinit(edges).ok());
}
