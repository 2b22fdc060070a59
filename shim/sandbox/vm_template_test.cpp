// The template cache: a build the VMM wrote becomes root's 0600 files under <root>/<key>; only
// such files are opened for a restore; anything else in a build refuses it; rm and list.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/sandbox/vm_template.hpp"

namespace {

using namespace runvm::shim;

struct NeedsRoot {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(::geteuid() == 0);
        r.message() << "needs root (a committed template is chowned to root)";
        return r;
    }
};

struct TempRoot {
    TempRoot() {
        char t[] = "/tmp/runvm-vm-template-test.XXXXXX";
        BOOST_REQUIRE(::mkdtemp(t) != nullptr);
        base = t;
        root = base + "/templates"; // made by the first build, 0700
    }
    ~TempRoot() {
        std::error_code ec;
        std::filesystem::remove_all(base, ec);
    }
    std::string base;
    std::string root;
};

void write(const std::string& path, const std::string& bytes, mode_t mode) {
    std::ofstream(path) << bytes;
    BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_committed_build_is_root_only_and_opens,
                     *boost::unit_test::precondition(NeedsRoot())) {
    TempRoot t;
    auto none = open_vm_template(t.root, "k1");
    BOOST_REQUIRE_MESSAGE(none.ok(), (none.ok() ? "" : none.error().str()));
    BOOST_TEST(!none->has_value());
    BOOST_TEST(!vm_template_saved(t.root, "k1"));

    auto build = VmTemplateBuild::begin(t.root, "k1", 4242, 4242);
    BOOST_REQUIRE_MESSAGE(build.ok(), (build.ok() ? "" : build.error().str()));
    const std::string dir = build->dir();
    BOOST_TEST(mode_of(t.root) == 0700u);
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 4242u); // the VMM's, to write in
    write(dir + "/state", "state bytes", 0644);
    write(dir + "/memory", "memory bytes", 0644);
    BOOST_REQUIRE(::chown((dir + "/state").c_str(), 4242, 4242) == 0);
    auto committed = build->commit();
    BOOST_REQUIRE_MESSAGE(committed.ok(), (committed.ok() ? "" : committed.error().str()));
    BOOST_TEST(!std::filesystem::exists(dir));
    BOOST_TEST(vm_template_saved(t.root, "k1"));
    BOOST_TEST(mode_of(t.root + "/k1") == 0700u);
    for (const char* f : {"/k1/state", "/k1/memory"}) {
        BOOST_TEST(mode_of(t.root + f) == 0600u);
        BOOST_REQUIRE(::stat((t.root + f).c_str(), &st) == 0);
        BOOST_TEST(st.st_uid == 0u);
    }
    auto opened = open_vm_template(t.root, "k1");
    BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().str()));
    BOOST_REQUIRE(opened->has_value());
    BOOST_TEST((*opened)->state.get() >= 0);
    BOOST_TEST((*opened)->memory.get() >= 0);

    const auto listed = list_vm_templates(t.root);
    BOOST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].key == "k1");
    BOOST_TEST(listed[0].memory_bytes == 12u);

    // A second build of the same key finds it taken: Ok, and its own files go with it.
    std::string second_dir;
    {
        auto second = VmTemplateBuild::begin(t.root, "k1", 0, 0);
        BOOST_REQUIRE(second.ok());
        second_dir = second->dir();
        write(second_dir + "/state", "other", 0600);
        write(second_dir + "/memory", "other", 0600);
        BOOST_REQUIRE(second->commit().ok());
    }
    BOOST_TEST(!std::filesystem::exists(second_dir));
    BOOST_TEST(std::filesystem::file_size(t.root + "/k1/memory") == 12u);

    BOOST_TEST(remove_vm_templates(t.root, "k1") == 1u);
    BOOST_TEST(!vm_template_saved(t.root, "k1"));
}

BOOST_AUTO_TEST_CASE(a_build_with_other_entries_or_links_is_refused,
                     *boost::unit_test::precondition(NeedsRoot())) {
    TempRoot t;
    {
        auto build = VmTemplateBuild::begin(t.root, "k", 0, 0);
        BOOST_REQUIRE(build.ok());
        write(build->dir() + "/state", "s", 0600);
        write(build->dir() + "/memory", "m", 0600);
        write(build->dir() + "/extra", "x", 0600);
        auto r = build->commit();
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("unexpected entry extra") != std::string::npos);
    }
    {
        auto build = VmTemplateBuild::begin(t.root, "k", 0, 0);
        BOOST_REQUIRE(build.ok());
        write(t.base + "/secret", "host file", 0600);
        BOOST_REQUIRE(::symlink((t.base + "/secret").c_str(), (build->dir() + "/state").c_str()) ==
                      0);
        write(build->dir() + "/memory", "m", 0600);
        auto r = build->commit();
        BOOST_REQUIRE(!r.ok());
        BOOST_TEST(r.error().str().find("/state") != std::string::npos);
    }
    BOOST_TEST(!vm_template_saved(t.root, "k"));
    // Dropped builds leave nothing.
    BOOST_TEST(std::filesystem::is_empty(t.root));
}

BOOST_AUTO_TEST_CASE(only_root_only_files_are_restored,
                     *boost::unit_test::precondition(NeedsRoot())) {
    TempRoot t;
    BOOST_REQUIRE(::mkdir(t.root.c_str(), 0700) == 0);
    BOOST_REQUIRE(::mkdir((t.root + "/k").c_str(), 0700) == 0);
    write(t.root + "/k/state", "s", 0600);
    write(t.root + "/k/memory", "m", 0644); // readable by others: not ours as written
    auto r = open_vm_template(t.root, "k");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("/k/memory: not a regular file of root's with mode 0600") !=
               std::string::npos);
    BOOST_REQUIRE(::chmod((t.root + "/k/memory").c_str(), 0600) == 0);
    BOOST_REQUIRE(::chmod((t.root + "/k").c_str(), 0755) == 0);
    r = open_vm_template(t.root, "k");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("not a root-only directory") != std::string::npos);
    BOOST_TEST(remove_vm_templates(t.root) == 1u);
    BOOST_TEST(std::filesystem::is_empty(t.root));
}
