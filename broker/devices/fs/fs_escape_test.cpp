// virtio-fs confinement and hostile requests: "..", symlinks pointing out (absolute and
// relative), names with '/', a directory swapped for a symlink after LOOKUP, and malformed
// requests (short header, len past the chain, unknown opcode, bad node id, no NUL).
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/fs_test_fixture.hpp"

using namespace runvm::broker::fs;
using namespace runvm::broker::fs::testing;

namespace {

// What a successful escape would change or reveal: the canary beside the share.
void canary_intact(const FsFixture& f) {
    BOOST_TEST(read_host_file(f.canary) == "outside the share");
    struct stat st {};
    BOOST_REQUIRE(::stat(f.canary.c_str(), &st) == 0);
    BOOST_TEST(st.st_nlink == 1u);
}

std::vector<uint8_t> header_bytes(uint32_t len, uint32_t opcode, uint64_t nodeid) {
    fuse_in_header h{};
    h.len = len;
    h.opcode = opcode;
    h.unique = 42;
    h.nodeid = nodeid;
    std::vector<uint8_t> b(sizeof(h));
    std::memcpy(b.data(), &h, sizeof(h));
    return b;
}

} // namespace

BOOST_AUTO_TEST_CASE(dotdot_of_the_root_is_the_root) {
    FsFixture f;
    auto a = f.c->lookup(ROOT, "..");
    BOOST_REQUIRE_EQUAL(a.error, 0);
    BOOST_TEST(a.as<fuse_entry_out>().nodeid == ROOT);
    struct stat st {};
    BOOST_REQUIRE(::stat(f.share.c_str(), &st) == 0);
    BOOST_TEST(a.as<fuse_entry_out>().attr.ino == st.st_ino);
    BOOST_TEST(f.c->lookup(ROOT, ".").as<fuse_entry_out>().nodeid == ROOT);
    ::mkdir(f.in_share("d").c_str(), 0755);
    const uint64_t d = f.node(ROOT, "d");
    BOOST_TEST(f.c->lookup(d, "..").error == EINVAL); // never resolved by the broker
    BOOST_TEST(f.c->create(ROOT, "..", O_RDWR, 0644).error == EINVAL);
    fuse_mkdir_in mk{};
    BOOST_TEST(f.c->call(FUSE_MKDIR, d, FuseArgs().add(mk).str("..")).error == EINVAL);
}

BOOST_AUTO_TEST_CASE(symlinks_pointing_out_are_never_followed) {
    FsFixture f;
    BOOST_REQUIRE(::symlink(f.canary.c_str(), f.in_share("abs").c_str()) == 0);
    BOOST_REQUIRE(::symlink("../canary", f.in_share("rel").c_str()) == 0);
    BOOST_REQUIRE(::symlink("/", f.in_share("slash").c_str()) == 0);
    BOOST_REQUIRE(::symlink("../../../../../../etc", f.in_share("etc").c_str()) == 0);
    for (const char* name : {"abs", "rel"}) {
        auto a = f.c->lookup(ROOT, name);
        BOOST_REQUIRE_EQUAL(a.error, 0);
        const auto e = a.as<fuse_entry_out>();
        BOOST_TEST(S_ISLNK(e.attr.mode)); // the link itself, not the canary
        BOOST_TEST(f.c->open(e.nodeid, O_RDONLY).error == ELOOP);
        BOOST_TEST(f.c->open(e.nodeid, O_RDONLY, true).error == ENOTDIR);
        BOOST_TEST(f.c->create(ROOT, name, O_RDWR | O_TRUNC, 0644).error == ELOOP);
        fuse_setattr_in sa{};
        sa.valid = FATTR_SIZE;
        BOOST_TEST(f.c->call(FUSE_SETATTR, e.nodeid, FuseArgs().add(sa)).error == EINVAL);
        sa.valid = FATTR_MODE;
        sa.mode = 0777;
        BOOST_TEST(f.c->call(FUSE_SETATTR, e.nodeid, FuseArgs().add(sa)).error == EOPNOTSUPP);
        fuse_getxattr_in g{};
        g.size = 100;
        BOOST_TEST(f.c->call(FUSE_GETXATTR, e.nodeid, FuseArgs().add(g).str("user.x")).error ==
                   ENODATA);
        const uint64_t size_and_flags = 1; // size 1, flags 0
        BOOST_TEST(f.c->call(FUSE_SETXATTR, e.nodeid,
                             FuseArgs().add(size_and_flags).str("user.x").raw("1"))
                       .error == EPERM);
        // A hard link to the symlink is another symlink, not a link to the canary.
        fuse_link_in ln{};
        ln.oldnodeid = e.nodeid;
        BOOST_TEST(
            f.c->call(FUSE_LINK, ROOT, FuseArgs().add(ln).str(std::string(name) + "2")).error == 0);
        struct stat st {};
        BOOST_REQUIRE(::lstat(f.in_share(std::string(name) + "2").c_str(), &st) == 0);
        BOOST_TEST(S_ISLNK(st.st_mode));
    }
    for (const char* name : {"slash", "etc"}) {
        const uint64_t n = f.node(ROOT, name);
        BOOST_TEST(f.c->lookup(n, "passwd").error == ENOTDIR);
        BOOST_TEST(f.c->create(n, "x", O_RDWR, 0644).error == ENOTDIR);
        BOOST_TEST(f.c->open(n, O_RDONLY, true).error == ENOTDIR);
    }
    canary_intact(f);
}

BOOST_AUTO_TEST_CASE(names_with_a_slash_are_refused) {
    FsFixture f;
    ::mkdir(f.in_share("d").c_str(), 0755);
    BOOST_TEST(f.c->lookup(ROOT, "d/../../canary").error == EINVAL);
    BOOST_TEST(f.c->lookup(ROOT, "/etc").error == EINVAL);
    BOOST_TEST(f.c->create(ROOT, "../canary", O_RDWR | O_TRUNC, 0644).error == EINVAL);
    BOOST_TEST(f.c->lookup(ROOT, "").error == EINVAL);
    BOOST_TEST(f.c->lookup(ROOT, std::string(300, 'n')).error == ENAMETOOLONG);
    fuse_rename_in rn{};
    rn.newdir = ROOT;
    write_host_file(f.in_share("a"), "a");
    BOOST_TEST(f.c->call(FUSE_RENAME, ROOT, FuseArgs().add(rn).str("a").str("../moved")).error ==
               EINVAL);
    BOOST_TEST(f.c->call(FUSE_SYMLINK, ROOT, FuseArgs().str("x/y").str("a")).error == EINVAL);
    BOOST_TEST(::access(f.dir.file("moved").c_str(), F_OK) != 0);
    canary_intact(f);
}

BOOST_AUTO_TEST_CASE(directory_swapped_for_a_symlink_after_lookup) {
    FsFixture f;
    ::mkdir(f.in_share("dir").c_str(), 0755);
    const uint64_t d = f.node(ROOT, "dir");
    // The host (or a racing guest request) replaces the directory with a link out.
    BOOST_REQUIRE(::rename(f.in_share("dir").c_str(), f.in_share("dir.old").c_str()) == 0);
    BOOST_REQUIRE(::symlink(f.dir.path().c_str(), f.in_share("dir").c_str()) == 0);
    // The node id is the directory's inode, not its name: nothing reaches the outside.
    BOOST_TEST(f.c->lookup(d, "canary").error == ENOENT);
    auto a = f.c->create(d, "canary", O_RDWR | O_TRUNC, 0644);
    BOOST_TEST(a.error == 0);
    BOOST_TEST(::access(f.in_share("dir.old/canary").c_str(), F_OK) == 0);
    BOOST_TEST(f.c->call(FUSE_UNLINK, d, FuseArgs().str("canary")).error == 0);
    // A lookup of the name now finds the symlink, which no request follows.
    const auto e = f.c->lookup(ROOT, "dir").as<fuse_entry_out>();
    BOOST_TEST(S_ISLNK(e.attr.mode));
    BOOST_TEST(f.c->lookup(e.nodeid, "canary").error == ENOTDIR);
    canary_intact(f);
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_an_errno_never_a_crash) {
    FsFixture f;
    // Shorter than fuse_in_header: nothing to answer.
    auto a = f.c->raw(std::vector<uint8_t>(10, 0), 256);
    BOOST_TEST(!a.answered);
    BOOST_TEST(a.used == 0u);
    // len beyond the chain, and len shorter than a header.
    auto h = header_bytes(4096, FUSE_GETATTR, ROOT);
    BOOST_TEST(f.c->raw(h, 256).error == EINVAL);
    h = header_bytes(8, FUSE_GETATTR, ROOT);
    BOOST_TEST(f.c->raw(h, 256).error == EINVAL);
    // Unknown opcode; bad node id; node 0.
    h = header_bytes(sizeof(fuse_in_header), 9999, ROOT);
    a = f.c->raw(h, 256);
    BOOST_TEST(a.error == ENOSYS);
    BOOST_TEST(a.unique == 42u);
    BOOST_TEST(f.c->call(FUSE_GETATTR, 12345, FuseArgs().add(fuse_getattr_in{})).error == EBADF);
    BOOST_TEST(f.c->lookup(0, "x").error == EBADF);
    // A name without its NUL (the header covers exactly the name bytes).
    h = header_bytes(sizeof(fuse_in_header) + 4, FUSE_LOOKUP, ROOT);
    h.insert(h.end(), {'a', 'b', 'c', 'd'});
    BOOST_TEST(f.c->raw(h, 256).error == EINVAL);
    // Arguments shorter than the opcode's struct.
    BOOST_TEST(f.c->call(FUSE_SETATTR, ROOT, FuseArgs().add(uint32_t{1})).error == EINVAL);
    BOOST_TEST(f.c->call(FUSE_READ, ROOT, FuseArgs().add(uint64_t{1})).error == EINVAL);
    // WRITE whose size disagrees with the data, or with a bad handle.
    fuse_write_in w{};
    w.size = 100;
    BOOST_TEST(f.c->call(FUSE_WRITE, ROOT, FuseArgs().add(w).raw("short")).error == EINVAL);
    w.size = 5;
    w.fh = 99;
    BOOST_TEST(f.c->call(FUSE_WRITE, ROOT, FuseArgs().add(w).raw("short")).error == EBADF);
    // Operations on the wrong kind of node.
    write_host_file(f.in_share("file"), "x");
    const uint64_t file = f.node(ROOT, "file");
    BOOST_TEST(f.c->lookup(file, "x").error == ENOTDIR);
    BOOST_TEST(f.c->open(ROOT, O_RDONLY).error == EISDIR);
    auto o = f.c->open(file, O_RDONLY);
    BOOST_REQUIRE_EQUAL(o.error, 0);
    BOOST_TEST(f.c->readdir(file, o.as<fuse_open_out>().fh, 0, 4096, false).error == EBADF);
    BOOST_TEST(f.c->release(ROOT, o.as<fuse_open_out>().fh, true).error == EBADF);
    // No writable buffer: the request is consumed without an answer.
    a = f.c->raw(header_bytes(sizeof(fuse_in_header), FUSE_STATFS, ROOT), 0);
    BOOST_TEST(a.used == 0u);
    // A reply that does not fit the driver's buffer is an ERANGE header, not an overflow.
    BOOST_TEST(f.c->call(FUSE_LOOKUP, ROOT, FuseArgs().str("file"), 32).error == ERANGE);
    // Split headers (header across descriptors) still parse.
    auto split = header_bytes(sizeof(fuse_in_header) + 5, FUSE_LOOKUP, ROOT);
    split.insert(split.end(), {'f', 'i', 'l', 'e', 0});
    BOOST_TEST(f.c->raw(split, 256, 1, 7).error == 0);
    // And the device still serves normal requests afterwards.
    BOOST_TEST(f.c->lookup(ROOT, "file").error == 0);
    BOOST_TEST(f.c->device().server().stats().malformed >= 3u);
}
