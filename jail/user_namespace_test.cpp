// jail_id_map over subuid files, create_user_namespace's maps as seen from inside.
#include <cerrno>
#include <cstring>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "jail/jail_ns_test_support.hpp"
#include "jail/user_namespace.hpp"

namespace runvm::jail {

namespace {

namespace utf = boost::unit_test;
using testing::in_child;
using testing::NeedsRoot;
using testing::ScratchDir;
using testing::why;

struct SubidFile {
    ScratchDir dir;
    std::string path = dir.path + "/subuid";
    explicit SubidFile(const std::string& text) {
        BOOST_TEST_REQUIRE(write_file_atomic(path, text, 0644).ok());
    }
};

// The whitespace-separated numbers of a uid_map, one IdMap per line.
std::vector<IdMap> parse_proc_map(const std::string& text) {
    std::vector<IdMap> out;
    for (std::string_view line : split(text, '\n')) {
        const auto w = words(line);
        if (w.size() == 3) {
            out.push_back({static_cast<uint32_t>(parse_u64(w[0]).value_or(0)),
                           static_cast<uint32_t>(parse_u64(w[1]).value_or(0)),
                           static_cast<uint32_t>(parse_u64(w[2]).value_or(0))});
        }
    }
    return out;
}

constexpr uint32_t kPrimary = 4242;
constexpr uint32_t kSubStart = 1879048192;

} // namespace

BOOST_AUTO_TEST_SUITE(jail_id_map_parse)

BOOST_AUTO_TEST_CASE(root_is_the_user_and_the_rest_its_range) {
    const SubidFile f("# made by setup.sh\n\nother:100000:65536\nrunvm:1879048192:65536\n");
    auto map = jail_id_map("runvm", kPrimary, f.path);
    BOOST_TEST_REQUIRE(map.ok(), why(map));
    const std::vector<IdMap> want = {{0, kPrimary, 1}, {1, kSubStart, 65535}};
    BOOST_TEST((*map == want));
    BOOST_TEST(format_id_map(*map) == "0 4242 1\n1 1879048192 65535\n");
}

BOOST_AUTO_TEST_CASE(a_line_may_name_the_user_by_its_uid) {
    const SubidFile f("4242:200000:100000\n");
    auto map = jail_id_map("runvm", kPrimary, f.path);
    BOOST_TEST_REQUIRE(map.ok(), why(map));
    BOOST_TEST((*map)[1].outside == 200000u);
    BOOST_TEST((*map)[1].count == 65535u);
}

BOOST_AUTO_TEST_CASE(a_user_without_a_range_is_named) {
    const SubidFile f("other:100000:65536\n");
    auto map = jail_id_map("runvm", kPrimary, f.path);
    BOOST_TEST_REQUIRE(!map.ok());
    BOOST_TEST(map.error().str().find(f.path + ": no subordinate id range for user runvm "
                                               "(scripts/setup.sh adds one)") != std::string::npos,
               map.error().str());
}

BOOST_AUTO_TEST_CASE(a_bad_line_is_named_by_file_and_line) {
    const SubidFile f("other:100000:65536\nrunvm:lots:65536\n");
    auto map = jail_id_map("runvm", kPrimary, f.path);
    BOOST_TEST_REQUIRE(!map.ok());
    BOOST_TEST(map.error().str().find(f.path + ":2: start 'lots'") != std::string::npos,
               map.error().str());
    const SubidFile g("runvm:100000\n");
    auto two = jail_id_map("runvm", kPrimary, g.path);
    BOOST_TEST_REQUIRE(!two.ok());
    BOOST_TEST(two.error().str().find(g.path + ":1: want name:start:count") != std::string::npos,
               two.error().str());
}

BOOST_AUTO_TEST_CASE(short_or_overlapping_ranges_are_refused) {
    const SubidFile f("runvm:100000:1000\n");
    auto map = jail_id_map("runvm", kPrimary, f.path);
    BOOST_TEST_REQUIRE(!map.ok());
    BOOST_TEST(map.error().code() == ERANGE);
    const SubidFile g("runvm:4000:65536\n");
    auto own = jail_id_map("runvm", kPrimary, g.path);
    BOOST_TEST_REQUIRE(!own.ok());
    BOOST_TEST(own.error().str().find("holds its own id 4242") != std::string::npos,
               own.error().str());
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named) {
    auto map = jail_id_map("runvm", kPrimary, "/nonexistent/subuid");
    BOOST_TEST_REQUIRE(!map.ok());
    BOOST_TEST(map.error().str().find("/nonexistent/subuid") != std::string::npos,
               map.error().str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(user_namespace)

BOOST_AUTO_TEST_CASE(maps_seen_from_inside, *utf::precondition(NeedsRoot())) {
    const std::vector<IdMap> uids = {{0, kPrimary, 1}, {1, kSubStart, 65535}};
    const std::vector<IdMap> gids = {{0, kPrimary + 1, 1}, {1, kSubStart + 65536, 65535}};
    auto ns = create_user_namespace(uids, gids);
    BOOST_TEST_REQUIRE(ns.ok(), why(ns));
    const std::string report = in_child([&]() -> std::string {
        if (::setns(ns->get(), CLONE_NEWUSER) != 0) {
            return std::string("setns: ") + std::strerror(errno);
        }
        // Read by a process of the namespace itself, the outside ids are the parent's.
        return read_file("/proc/self/uid_map").value_or("no uid_map") + "--\n" +
               read_file("/proc/self/gid_map").value_or("no gid_map");
    });
    const size_t split_at = report.find("--\n");
    BOOST_TEST_REQUIRE(split_at != std::string::npos, report);
    BOOST_TEST((parse_proc_map(report.substr(0, split_at)) == uids), report);
    BOOST_TEST((parse_proc_map(report.substr(split_at + 3)) == gids), report);
}

BOOST_AUTO_TEST_CASE(a_map_the_kernel_refuses_is_named, *utf::precondition(NeedsRoot())) {
    // Two ranges for inside id 0: overlapping maps are refused (user_namespaces(7)).
    const std::vector<IdMap> uids = {{0, kPrimary, 1}, {0, kSubStart, 10}};
    auto ns = create_user_namespace(uids, uids);
    BOOST_TEST_REQUIRE(!ns.ok());
    BOOST_TEST(ns.error().str().find("uid_map") != std::string::npos, ns.error().str());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::jail
