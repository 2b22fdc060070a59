// A hostile guest on a share (issue #21 item 4): CREATE/OPEN of FIFOs never block the fs
// thread, set-ID bits and chown are the share's option, open inodes and handles have
// ceilings (ENFILE beyond them), and the spec keys for all of it.
#include <string>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/fs_test_fixture.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::fs;
using namespace runvm::broker::fs::testing;

namespace {

mode_t host_mode(const std::string& path) {
    struct stat st {};
    BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// A request that blocks the fs thread would hang the test: SIGALRM ends it instead.
struct Deadline {
    Deadline() { ::alarm(30); }
    ~Deadline() { ::alarm(0); }
};

FuseAnswer mkdir_in(FsFixture& f, uint64_t parent, const std::string& name, uint32_t mode) {
    fuse_mkdir_in mk{};
    mk.mode = mode;
    return f.c->call(FUSE_MKDIR, parent, FuseArgs().add(mk).str(name));
}

FuseAnswer setattr(FsFixture& f, uint64_t node, const fuse_setattr_in& in) {
    return f.c->call(FUSE_SETATTR, node, FuseArgs().add(in));
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_guest)

BOOST_AUTO_TEST_CASE(create_and_open_of_a_fifo_never_block) {
    Deadline deadline;
    FsFixture f;
    BOOST_REQUIRE(::mkfifo(f.in_share("fifo").c_str(), 0666) == 0);
    BOOST_REQUIRE(::mkdir(f.in_share("dir").c_str(), 0755) == 0);
    // No reader or writer on the host: an open of the FIFO for reading or writing would wait.
    for (const uint32_t flags : {O_RDONLY, O_WRONLY, O_RDWR | O_TRUNC}) {
        BOOST_TEST(f.c->create(ROOT, "fifo", flags, 0644).error == ENXIO);
        BOOST_TEST(f.c->create(ROOT, "fifo", flags | O_EXCL, 0644).error == EEXIST);
    }
    BOOST_TEST(f.c->create(ROOT, "dir", O_RDWR, 0644).error == EISDIR);
    const uint64_t fifo = f.node(ROOT, "fifo");
    BOOST_TEST(f.c->open(fifo, O_RDONLY).error == ENXIO);
    BOOST_TEST(f.c->open(fifo, O_WRONLY).error == ENXIO);
    BOOST_TEST(f.c->device().server().handle_count() == 0u);
    // Still a FIFO, and the device still serves.
    struct stat st {};
    BOOST_REQUIRE(::lstat(f.in_share("fifo").c_str(), &st) == 0);
    BOOST_TEST(S_ISFIFO(st.st_mode));
    auto a = f.c->create(ROOT, "file", O_RDWR, 0644);
    BOOST_REQUIRE_EQUAL(a.error, 0);
    BOOST_TEST(f.c->create(ROOT, "file", O_RDWR, 0644).error == 0); // existing regular file
}

BOOST_AUTO_TEST_CASE(setid_bits_stripped_and_chown_refused_by_default) {
    FsFixture f;
    auto a = f.c->create(ROOT, "suid", O_RDWR, 06755);
    BOOST_REQUIRE_EQUAL(a.error, 0);
    const uint64_t suid = a.as<fuse_entry_out>().nodeid;
    const uint64_t fh = a.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);
    BOOST_TEST((a.as<fuse_entry_out>().attr.mode & 07777) == 0755u);

    BOOST_REQUIRE_EQUAL(mkdir_in(f, ROOT, "d", 06755).error, 0);
    BOOST_TEST(host_mode(f.in_share("d")) == 02755u); // a set-group-ID directory is harmless
    fuse_mknod_in mn{};
    mn.mode = S_IFREG | 06755;
    BOOST_REQUIRE_EQUAL(f.c->call(FUSE_MKNOD, ROOT, FuseArgs().add(mn).str("n")).error, 0);
    BOOST_TEST(host_mode(f.in_share("n")) == 0755u);

    fuse_setattr_in in{};
    in.valid = FATTR_MODE;
    in.mode = S_IFREG | 04711;
    BOOST_REQUIRE_EQUAL(setattr(f, suid, in).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0711u);
    in.mode = S_IFREG | 01755; // sticky stays
    BOOST_REQUIRE_EQUAL(setattr(f, suid, in).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 01755u);

    // Set-ID bits the host put there go on a write, a truncation and a fallocate, as the
    // kernel's file_remove_privs does for an unprivileged writer.
    BOOST_REQUIRE(::chmod(f.in_share("suid").c_str(), 06755) == 0);
    BOOST_REQUIRE_EQUAL(f.c->write(suid, fh, 0, "data").error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);
    BOOST_REQUIRE(::chmod(f.in_share("suid").c_str(), 04755) == 0);
    in.valid = FATTR_SIZE;
    in.size = 1;
    BOOST_REQUIRE_EQUAL(setattr(f, suid, in).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);
    BOOST_REQUIRE(::chmod(f.in_share("suid").c_str(), 04755) == 0);
    fuse_fallocate_in fa{};
    fa.fh = fh;
    fa.length = 4096;
    BOOST_REQUIRE_EQUAL(f.c->call(FUSE_FALLOCATE, suid, FuseArgs().add(fa)).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);

    BOOST_REQUIRE(::chmod(f.in_share("suid").c_str(), 04755) == 0);
    BOOST_REQUIRE_EQUAL(f.c->open(suid, O_WRONLY | O_TRUNC).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);
    BOOST_REQUIRE(::chmod(f.in_share("suid").c_str(), 04755) == 0);
    BOOST_REQUIRE_EQUAL(f.c->create(ROOT, "suid", O_WRONLY | O_TRUNC, 0644).error, 0);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);

    // chown: refused when it changes anything (nothing else of the request is applied),
    // answered when it changes nothing.
    struct stat st {};
    BOOST_REQUIRE(::stat(f.in_share("suid").c_str(), &st) == 0);
    in.valid = FATTR_MODE | FATTR_UID;
    in.mode = S_IFREG | 0700;
    in.uid = st.st_uid + 1;
    BOOST_TEST(setattr(f, suid, in).error == EPERM);
    BOOST_TEST(host_mode(f.in_share("suid")) == 0755u);
    in.valid = FATTR_UID | FATTR_GID;
    in.uid = st.st_uid + 1;
    in.gid = st.st_gid;
    BOOST_TEST(setattr(f, suid, in).error == EPERM);
    in.uid = st.st_uid;
    in.gid = st.st_gid + 1;
    BOOST_TEST(setattr(f, suid, in).error == EPERM);
    in.gid = st.st_gid;
    BOOST_TEST(setattr(f, suid, in).error == 0);
    struct stat after {};
    BOOST_REQUIRE(::stat(f.in_share("suid").c_str(), &after) == 0);
    BOOST_TEST(after.st_uid == st.st_uid);
    BOOST_TEST(after.st_gid == st.st_gid);
}

BOOST_AUTO_TEST_CASE(allow_setid_restores_runc_behaviour) {
    FsFixture f(CacheMode::auto_, false, [](FsOptions& o) { o.allow_setid = true; });
    auto a = f.c->create(ROOT, "suid", O_RDWR, 04755);
    BOOST_REQUIRE_EQUAL(a.error, 0);
    const uint64_t suid = a.as<fuse_entry_out>().nodeid;
    const uint64_t fh = a.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
    BOOST_TEST(host_mode(f.in_share("suid")) == 04755u);
    BOOST_REQUIRE_EQUAL(mkdir_in(f, ROOT, "d", 04755).error, 0);
    BOOST_TEST(host_mode(f.in_share("d")) == 04755u);
    if (::geteuid() == 0) {
        // The broker keeps CAP_FSETID: the host kernel leaves the bits on a write.
        BOOST_REQUIRE_EQUAL(f.c->write(suid, fh, 0, "data").error, 0);
        BOOST_TEST(host_mode(f.in_share("suid")) == 04755u);
        fuse_setattr_in in{};
        in.valid = FATTR_UID | FATTR_GID;
        in.uid = 99;
        in.gid = 98;
        BOOST_TEST(setattr(f, suid, in).error == 0);
        struct stat st {};
        BOOST_REQUIRE(::stat(f.in_share("suid").c_str(), &st) == 0);
        BOOST_TEST(st.st_uid == 99u);
    }
}

BOOST_AUTO_TEST_CASE(allow_setid_per_top_level_entry) {
    FsFixture f(CacheMode::auto_, false, [](FsOptions& o) { o.setid_entries = {"rootfs"}; });
    BOOST_REQUIRE(::mkdir(f.in_share("rootfs").c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir(f.in_share("vol").c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir(f.in_share("vol/rootfs").c_str(), 0755) == 0);
    const uint64_t rootfs = f.node(ROOT, "rootfs");
    const uint64_t vol = f.node(ROOT, "vol");
    BOOST_REQUIRE_EQUAL(f.c->create(rootfs, "s", O_RDWR, 04755).error, 0);
    BOOST_TEST(host_mode(f.in_share("rootfs/s")) == 04755u);
    BOOST_REQUIRE_EQUAL(mkdir_in(f, rootfs, "sub", 0755).error, 0); // inherited below
    BOOST_REQUIRE_EQUAL(f.c->create(f.node(rootfs, "sub"), "s", O_RDWR, 04755).error, 0);
    BOOST_TEST(host_mode(f.in_share("rootfs/sub/s")) == 04755u);
    BOOST_REQUIRE_EQUAL(f.c->create(vol, "s", O_RDWR, 04755).error, 0);
    BOOST_TEST(host_mode(f.in_share("vol/s")) == 0755u);
    // vol/rootfs is not the top-level "rootfs", also when READDIRPLUS names the root as
    // its node but hands the handle of vol: the handle decides.
    auto o = f.c->open(vol, O_RDONLY, true);
    BOOST_REQUIRE_EQUAL(o.error, 0);
    const uint64_t dir_fh = o.as<fuse_open_out>().fh;
    fuse_read_in rd{};
    rd.fh = dir_fh;
    rd.size = 4096;
    BOOST_REQUIRE_EQUAL(f.c->call(FUSE_READDIRPLUS, ROOT, FuseArgs().add(rd), 8192).error, 0);
    const uint64_t inner = f.node(vol, "rootfs");
    BOOST_REQUIRE_EQUAL(f.c->create(inner, "s", O_RDWR, 04755).error, 0);
    BOOST_TEST(host_mode(f.in_share("vol/rootfs/s")) == 0755u);
}

BOOST_AUTO_TEST_CASE(inode_and_handle_ceilings_answer_enfile) {
    FsFixture f(CacheMode::auto_, false, [](FsOptions& o) {
        o.max_inodes = 8; // the root included
        o.max_handles = 4;
    });
    for (int i = 0; i < 10; ++i) {
        write_host_file(f.in_share("f" + std::to_string(i)), "x");
    }
    std::vector<uint64_t> held;
    for (int i = 0; i < 7; ++i) {
        held.push_back(f.node(ROOT, "f" + std::to_string(i)));
    }
    BOOST_TEST(f.c->lookup(ROOT, "f7").error == ENFILE);
    BOOST_TEST(f.c->lookup(ROOT, "f0").error == 0); // a held inode is still counted
    BOOST_TEST(f.c->create(ROOT, "new", O_RDWR, 0644).error == ENFILE);
    BOOST_TEST(::access(f.in_share("new").c_str(), F_OK) != 0); // undone
    BOOST_TEST(mkdir_in(f, ROOT, "d", 0755).error == ENFILE);
    BOOST_TEST(::access(f.in_share("d").c_str(), F_OK) != 0);
    BOOST_TEST(f.c->device().server().inode_count() == 8u);
    fuse_forget_in forget{};
    forget.nlookup = 1;
    f.c->call(FUSE_FORGET, held[6], FuseArgs().add(forget));
    BOOST_TEST(f.c->lookup(ROOT, "f7").error == 0);

    std::vector<uint64_t> fhs;
    for (int i = 0; i < 4; ++i) {
        auto o = f.c->open(held[0], O_RDONLY);
        BOOST_REQUIRE_EQUAL(o.error, 0);
        fhs.push_back(o.as<fuse_open_out>().fh);
    }
    BOOST_TEST(f.c->open(held[0], O_RDONLY).error == ENFILE);
    BOOST_TEST(f.c->open(ROOT, O_RDONLY, true).error == ENFILE);
    BOOST_TEST(f.c->device().server().handle_count() == 4u);
    BOOST_REQUIRE_EQUAL(f.c->release(held[0], fhs[0]).error, 0);
    BOOST_TEST(f.c->open(held[0], O_RDONLY).error == 0);
}

BOOST_AUTO_TEST_CASE(spec_keys_for_setid_and_ceilings) {
    auto parse = [](const std::string& extra) {
        return parse_options(
            parse_device_spec("/run/f.sock,dir=/srv,tag=t" + extra, SPEC_KEYS).value());
    };
    auto o = parse("");
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(!o->allow_setid);
    BOOST_TEST(o->setid_entries.empty());
    BOOST_TEST(o->max_inodes == 65536u);
    BOOST_TEST(o->max_handles == 16384u);
    o = parse(",allow_setid=on,max_inodes=100,max_handles=20");
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(o->allow_setid);
    BOOST_TEST(o->max_inodes == 100u);
    BOOST_TEST(o->max_handles == 20u);
    o = parse(",allow_setid=off");
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(!o->allow_setid);
    o = parse(",allow_setid=rootfs:3");
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(!o->allow_setid);
    BOOST_TEST((o->setid_entries == std::vector<std::string>{"rootfs", "3"}));
    for (const char* bad :
         {",allow_setid=", ",allow_setid=a:", ",allow_setid=..", ",allow_setid=a/b",
          ",max_inodes=0", ",max_inodes=99999999999", ",max_handles=x", ",max_handles=1"}) {
        BOOST_TEST(!parse(bad).ok(), bad);
    }
}

BOOST_AUTO_TEST_SUITE_END()
