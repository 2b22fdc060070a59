// CappedLog: a flood of 10x the cap leaves both files within it, the newest bytes kept.
#include <string>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "base/capped_log.hpp"
#include "base/io.hpp"

namespace runvm {
namespace {

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/capped_log_test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        for (const char* f : {"/log", "/log.1"}) {
            ::unlink((path + f).c_str());
        }
        ::rmdir(path.c_str());
    }
    std::string path;
};

off_t file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Line i of the flood: distinct, so the order kept can be checked.
std::string line(int i) {
    return "line " + std::to_string(i) + "\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(capped_log)

BOOST_AUTO_TEST_CASE(ten_times_the_cap_stays_within_it_newest_kept) {
    TempDir dir;
    const std::string path = dir.path + "/log";
    constexpr uint64_t cap = 4096;
    auto log = CappedLog::open(path, cap);
    BOOST_REQUIRE(log.ok());
    std::string all;
    for (int i = 0; all.size() < 10 * cap; ++i) {
        all += line(i);
        BOOST_REQUIRE(log->append(line(i)).ok());
        BOOST_TEST(file_size(path) <= static_cast<off_t>(cap / 2));
    }
    BOOST_TEST(file_size(path + ".1") == static_cast<off_t>(cap / 2));
    // One append larger than the whole cap keeps its own last bytes.
    const std::string big(3 * cap, 'x');
    all += big + "end\n";
    BOOST_REQUIRE(log->append(big + "end\n").ok());
    BOOST_TEST(file_size(path) + file_size(path + ".1") <= static_cast<off_t>(cap));
    const std::string tail = read_log_tail(path, cap);
    BOOST_TEST(tail.size() > cap / 2);
    BOOST_TEST(all.substr(all.size() - tail.size()) == tail);
}

BOOST_AUTO_TEST_CASE(tail_reads_across_the_rotation_and_at_most_max) {
    TempDir dir;
    const std::string path = dir.path + "/log";
    auto log = CappedLog::open(path, 16);
    BOOST_REQUIRE(log.ok());
    BOOST_REQUIRE(log->append("0123456789abcdef").ok()); // .1: 01234567, log: 89abcdef
    BOOST_TEST(read_log_tail(path, 100) == "0123456789abcdef");
    BOOST_TEST(read_log_tail(path, 10) == "6789abcdef");
    BOOST_TEST(read_log_tail(path, 4) == "cdef");
    BOOST_TEST(read_log_tail(dir.path + "/missing", 4) == "");
}

BOOST_AUTO_TEST_CASE(reopening_a_full_log_rotates_it) {
    TempDir dir;
    const std::string path = dir.path + "/log";
    BOOST_REQUIRE(write_file_atomic(path, std::string(100, 'a'), 0600).ok());
    auto log = CappedLog::open(path, 64);
    BOOST_REQUIRE(log.ok());
    BOOST_REQUIRE(log->append("b").ok());
    BOOST_TEST(file_size(path) == 1);
    BOOST_TEST(read_log_tail(path, 2) == "ab");
}

BOOST_AUTO_TEST_CASE(no_cap_appends_everything) {
    TempDir dir;
    const std::string path = dir.path + "/log";
    auto log = CappedLog::open(path, 0);
    BOOST_REQUIRE(log.ok());
    BOOST_REQUIRE(log->append(std::string(10000, 'z')).ok());
    BOOST_TEST(file_size(path) == 10000);
    BOOST_TEST(file_size(path + ".1") == -1);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm
