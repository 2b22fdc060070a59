// One uid per VM: leases are distinct, run out with a clear error, come back when dropped;
// a range overlapping someone's subordinate ids is refused, naming the line.
#include <filesystem>
#include <optional>
#include <set>

#include <boost/test/unit_test.hpp>
#include <stdlib.h>
#include <sys/stat.h>

#include "shim/sandbox/vm_ids.hpp"

namespace runvm::shim {

namespace {

struct LockDir {
    std::string path;
    LockDir() {
        char tmpl[] = "/tmp/runvm-vm-ids-test.XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = std::string(tmpl) + "/locks"; // made by acquire, 0700
    }
    ~LockDir() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(vm_ids)

BOOST_AUTO_TEST_CASE(leases_are_distinct_until_the_range_runs_out) {
    LockDir dir;
    const config::IdRange range{5000, 3};
    std::vector<VmIdLease> held;
    std::set<uint32_t> ids;
    for (const char* name : {"a", "b", "c"}) {
        auto lease = VmIdLease::acquire(dir.path, range, name);
        BOOST_REQUIRE_MESSAGE(lease.ok(), (lease.ok() ? "" : lease.error().str()));
        BOOST_TEST(lease->held());
        BOOST_TEST(lease->id() >= 5000u);
        BOOST_TEST(lease->id() < 5003u);
        ids.insert(lease->id());
        held.push_back(std::move(*lease));
    }
    BOOST_TEST(ids.size() == 3u);
    auto none = VmIdLease::acquire(dir.path, range, "d");
    BOOST_TEST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().code() == EAGAIN);
    BOOST_TEST(none.error().str().find("jail_vm_ids: all 3 ids are held") != std::string::npos,
               none.error().str());
    // A dropped lease (a monitor that ended, however it ended) frees its id.
    const uint32_t freed = held[1].id();
    held.erase(held.begin() + 1);
    auto again = VmIdLease::acquire(dir.path, range, "d");
    BOOST_TEST_REQUIRE(again.ok());
    BOOST_TEST(again->id() == freed);
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(dir.path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0700u);
}

BOOST_AUTO_TEST_CASE(a_name_gets_the_same_id_while_it_is_free) {
    LockDir dir;
    const config::IdRange range{1879113728, 65536};
    uint32_t first = 0;
    {
        auto lease = VmIdLease::acquire(dir.path, range, "pod-1");
        BOOST_TEST_REQUIRE(lease.ok());
        first = lease->id();
    }
    auto lease = VmIdLease::acquire(dir.path, range, "pod-1");
    BOOST_TEST_REQUIRE(lease.ok());
    BOOST_TEST(lease->id() == first);
}

BOOST_AUTO_TEST_CASE(a_range_over_someones_subordinate_ids_is_refused) {
    const config::IdRange range{1879113728, 65536};
    const std::string ours = "runvm:1879048192:65536\n";
    BOOST_TEST(
        check_vm_id_range(range, "runvm", "/etc/subuid", ours + "alice:100000:65536\n").ok());
    // Recorded as the jail user's second range: that is where an operator notes it.
    BOOST_TEST(
        check_vm_id_range(range, "runvm", "/etc/subuid", ours + "runvm:1879113728:65536\n").ok());
    auto r =
        check_vm_id_range(range, "runvm", "/etc/subuid", ours + "# comment\nbob:1879150000:1000\n");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("jail_vm_ids 1879113728:65536 overlaps /etc/subuid:3 "
                                    "(bob:1879150000:1000)") != std::string::npos,
               r.error().str());
    // The jail user's first range is the guest's users in its broker's namespace.
    r = check_vm_id_range({1879048192 + 100, 10}, "runvm", "/etc/subgid", ours);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("/etc/subgid:1") != std::string::npos, r.error().str());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::shim
