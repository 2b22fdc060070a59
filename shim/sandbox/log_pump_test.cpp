// LogPump: a writer that opens the pump's path as a file fills the capped log, nothing more.
#include <string>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/capped_log.hpp"
#include "shim/sandbox/log_pump.hpp"

namespace runvm::shim {
namespace {

off_t size_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

} // namespace

BOOST_AUTO_TEST_CASE(log_pump_drains_a_writer_into_a_capped_file) {
    char tmpl[] = "/tmp/log_pump_test.XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string file = dir + "/console.log";
    constexpr uint64_t cap = 16 * 1024;
    std::string all;
    {
        LogPump pump(cap);
        auto path = pump.add(file);
        BOOST_REQUIRE(path.ok());
        BOOST_TEST(path->rfind("/proc/", 0) == 0);
        BOOST_REQUIRE(pump.start().ok());
        // Opened by path, as QEMU's -serial file: and a child's stdout are.
        const int fd = ::open(path->c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        BOOST_REQUIRE(fd >= 0);
        for (int i = 0; all.size() < 10 * cap; ++i) {
            const std::string line = "line " + std::to_string(i) + "\n";
            all += line;
            BOOST_REQUIRE(::write(fd, line.data(), line.size()) ==
                          static_cast<ssize_t>(line.size()));
        }
        ::close(fd);
        pump.stop();
    }
    BOOST_TEST(size_of(file) <= static_cast<off_t>(cap / 2));
    BOOST_TEST(size_of(file + ".1") <= static_cast<off_t>(cap / 2));
    const std::string tail = read_log_tail(file, cap);
    BOOST_TEST(tail.size() > cap / 2);
    BOOST_TEST(all.substr(all.size() - tail.size()) == tail);
    ::unlink(file.c_str());
    ::unlink((file + ".1").c_str());
    ::rmdir(dir.c_str());
}

} // namespace runvm::shim
