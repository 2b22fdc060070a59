// The memory file: sparse (holes for zero pages), 0600, renamed into place, and read back
// into a new memfd byte for byte; a file of the wrong size or kind is refused.
#include <cstdlib>
#include <filesystem>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "vmm/snapshot/memory_file.hpp"

namespace runvm::vmm::snapshot {

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/vmm-memfile.XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

GuestMemory must_memory(uint64_t bytes) {
    auto m = GuestMemory::create(bytes);
    BOOST_REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()));
    return std::move(*m);
}

} // namespace

BOOST_AUTO_TEST_SUITE(memory_file)

BOOST_AUTO_TEST_CASE(zero_pages_stay_holes_and_the_rest_comes_back) {
    TempDir dir;
    GuestMemory ram = must_memory(4 << 20);
    const std::vector<uint8_t> a(4096, 0xa5);
    const std::vector<uint8_t> b(3 * 4096, 0x3c);
    BOOST_REQUIRE(ram.write(0x1000, a).ok());
    BOOST_REQUIRE(ram.write(0x200000, b).ok());          // one run of three pages
    BOOST_REQUIRE(ram.fill(0x3ff000 + 4095, 1, 1).ok()); // the last byte of RAM
    const std::string path = dir.path + "/memory";
    auto written = write_memory_file(ram, path);
    BOOST_REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().str()));
    BOOST_TEST(*written == 5u * 4096);

    struct stat st {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0600u);
    BOOST_TEST(st.st_size == 4 << 20);
    BOOST_TEST(st.st_blocks * 512 <= 64 * 1024); // 20 KiB of data, the rest holes
    BOOST_TEST(!std::filesystem::exists(path + ".tmp"));

    GuestMemory back = must_memory(4 << 20);
    BOOST_REQUIRE(back.fill(0x1000, 0x77, 0x1000).ok()); // overwritten: the page is data
    BOOST_REQUIRE(back.fill(0, 0x77, 1).ok()); // stays: holes are not copied (a new memfd is 0)
    auto r = read_memory_file(path, back);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    std::vector<uint8_t> want(ram.low_ram_end()), got(back.low_ram_end());
    BOOST_REQUIRE(ram.read(0, want).ok());
    BOOST_REQUIRE(back.read(0, got).ok());
    BOOST_TEST(got[0] == 0x77);
    BOOST_TEST(std::equal(want.begin() + 1, want.end(), got.begin() + 1));
    BOOST_TEST(got[0x1000] == 0xa5);
    BOOST_TEST(got[0x200000 + 3 * 4096 - 1] == 0x3c);
    BOOST_TEST(got[0x3fffff] == 1);
}

BOOST_AUTO_TEST_CASE(saving_does_not_allocate_the_memfd_holes) {
    TempDir dir;
    GuestMemory ram = must_memory(64 << 20);
    BOOST_REQUIRE(ram.fill(0x300000, 0xee, 4096).ok());
    struct stat before {};
    BOOST_REQUIRE(::fstat(ram.fd(), &before) == 0);
    auto written = write_memory_file(ram, dir.path + "/memory");
    BOOST_REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().str()));
    BOOST_TEST(*written == 4096u);
    struct stat after {};
    BOOST_REQUIRE(::fstat(ram.fd(), &after) == 0);
    BOOST_TEST(after.st_blocks == before.st_blocks); // only the data extents were read
}

BOOST_AUTO_TEST_CASE(wrong_files_are_refused) {
    TempDir dir;
    GuestMemory ram = must_memory(2 << 20);
    const std::string path = dir.path + "/memory";
    BOOST_REQUIRE(write_memory_file(ram, path).ok());
    GuestMemory bigger = must_memory(4 << 20);
    auto r = read_memory_file(path, bigger);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("not a regular file of the 4194304 bytes") !=
               std::string::npos);
    BOOST_REQUIRE(::truncate(path.c_str(), 4096) == 0);
    BOOST_TEST(!read_memory_file(path, ram).ok());
    BOOST_TEST(!read_memory_file(dir.path + "/none", ram).ok());
    BOOST_REQUIRE(::symlink(path.c_str(), (dir.path + "/link").c_str()) == 0);
    BOOST_TEST(!read_memory_file(dir.path + "/link", ram).ok()); // O_NOFOLLOW
}

BOOST_AUTO_TEST_CASE(a_link_at_the_temporary_name_is_not_followed) {
    TempDir dir;
    GuestMemory ram = must_memory(2 << 20);
    const std::string victim = dir.path + "/victim";
    BOOST_REQUIRE(write_file_atomic(victim, "keep", 0644).ok());
    BOOST_REQUIRE(::symlink(victim.c_str(), (dir.path + "/memory.tmp").c_str()) == 0);
    BOOST_TEST(!write_memory_file(ram, dir.path + "/memory").ok());
    BOOST_TEST(*read_file(victim) == "keep");
}

BOOST_AUTO_TEST_CASE(state_file_replaces_atomically_with_mode_0600) {
    TempDir dir;
    const std::string path = dir.path + "/state";
    BOOST_REQUIRE(write_file_atomic(path, "old", 0644).ok());
    const std::vector<uint8_t> bytes = {'n', 'e', 'w'};
    BOOST_REQUIRE(write_private_file_atomic(path, bytes).ok());
    BOOST_TEST(*read_file(path) == "new");
    struct stat st {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0600u);
    BOOST_TEST(!write_private_file_atomic(dir.path + "/no/such/dir/state", bytes).ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runvm::vmm::snapshot
