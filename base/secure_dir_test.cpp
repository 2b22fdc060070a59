// open_owned_dir / create_owned_dir: made 0700 whatever the umask, symlinks, foreign owners,
// group-writable modes and non-directories refused with the path named.
#include <filesystem>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/secure_dir.hpp"

using namespace runvm;

namespace {

struct ScratchDir {
    ScratchDir() {
        char tmpl[] = "/tmp/secure_dir_test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::string path;
};

mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

bool says(const Result<UniqueFd>& r, const std::string& what) {
    return !r.ok() && r.error().str().find(what) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(made_with_the_exact_mode_and_reused) {
    ScratchDir d;
    const mode_t old_umask = ::umask(077);
    auto made = open_owned_dir(d.path + "/a/b/run", 0711, MissingParents::create);
    ::umask(old_umask);
    BOOST_REQUIRE_MESSAGE(made.ok(), (made.ok() ? std::string() : made.error().str()));
    BOOST_TEST(mode_of(d.path + "/a/b/run") == 0711u);
    BOOST_TEST(open_owned_dir(d.path + "/a/b/run", 0700).ok()); // reused, mode kept
    BOOST_TEST(mode_of(d.path + "/a/b/run") == 0711u);
    auto fresh = create_owned_dir(d.path + "/c", 0700);
    BOOST_REQUIRE(fresh.ok());
    BOOST_TEST(mode_of(d.path + "/c") == 0700u);
    auto taken = create_owned_dir(d.path + "/c", 0700);
    BOOST_TEST(taken.error().code() == EEXIST);
    auto missing = open_owned_dir(d.path + "/none");
    BOOST_TEST(missing.error().code() == ENOENT);
    BOOST_TEST(says(open_owned_dir(d.path + "/x/y", 0700), "mkdir " + d.path + "/x/y"));
}

BOOST_AUTO_TEST_CASE(a_symlink_at_the_name_is_refused) {
    ScratchDir d;
    BOOST_REQUIRE(::mkdir((d.path + "/real").c_str(), 0700) == 0);
    BOOST_REQUIRE(::symlink((d.path + "/real").c_str(), (d.path + "/link").c_str()) == 0);
    for (const bool create : {false, true}) {
        auto r = create ? open_owned_dir(d.path + "/link", 0700) : open_owned_dir(d.path + "/link");
        BOOST_TEST(r.error().code() == ELOOP);
        BOOST_TEST(says(r, "run directory " + d.path + "/link: is a symlink"));
    }
    BOOST_REQUIRE(::symlink("/nonexistent", (d.path + "/dangling").c_str()) == 0);
    BOOST_TEST(says(open_owned_dir(d.path + "/dangling", 0700), "is a symlink"));
}

BOOST_AUTO_TEST_CASE(group_or_other_writable_is_refused) {
    ScratchDir d;
    for (const mode_t bad : {mode_t{0770}, mode_t{0702}, mode_t{01777}}) {
        const std::string p = d.path + "/m" + std::to_string(bad);
        BOOST_REQUIRE(::mkdir(p.c_str(), 0700) == 0 && ::chmod(p.c_str(), bad) == 0);
        auto r = open_owned_dir(p, 0700);
        BOOST_TEST(r.error().code() == EPERM);
        BOOST_TEST(says(r, "run directory " + p + ": mode"));
        BOOST_TEST(says(r, "lets group or others write"));
    }
    // Traverse and read bits are allowed: a jail user may need to pass through.
    BOOST_REQUIRE(::mkdir((d.path + "/x").c_str(), 0755) == 0);
    BOOST_TEST(open_owned_dir(d.path + "/x").ok());
}

BOOST_AUTO_TEST_CASE(not_a_directory_is_refused) {
    ScratchDir d;
    const std::string f = d.path + "/file";
    BOOST_REQUIRE(::close(::creat(f.c_str(), 0600)) == 0);
    auto r = open_owned_dir(f, 0700);
    BOOST_TEST(r.error().code() == ENOTDIR);
    BOOST_TEST(says(r, "run directory " + f + ": is not a directory"));
}

BOOST_AUTO_TEST_CASE(another_owner_is_refused,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return boost::unit_test::assertion_result(::geteuid() == 0);
                     })) {
    ScratchDir d;
    const std::string p = d.path + "/theirs";
    BOOST_REQUIRE(::mkdir(p.c_str(), 0700) == 0 && ::chown(p.c_str(), 65534, 65534) == 0);
    auto r = open_owned_dir(p, 0700);
    BOOST_TEST(r.error().code() == EPERM);
    BOOST_TEST(says(r, "run directory " + p + ": owned by uid 65534, not by uid 0"));
}
