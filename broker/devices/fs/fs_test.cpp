// virtio-fs operations with real FUSE requests through FsDevice's queues: INIT, LOOKUP,
// CREATE/WRITE/READ, MKDIR/READDIR(PLUS), RENAME, LINK/SYMLINK/READLINK, SETATTR, xattrs,
// FORGET, cache modes, read-only shares, and the config space over real vhost-user.
#define BOOST_TEST_MODULE broker_fs
#include <set>
#include <tuple>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "broker/devices/fs/fs_test_fixture.hpp"
#include "broker/devices/le_bytes.hpp"
#include "broker/testing/device_harness.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::fs;
using namespace runvm::broker::fs::testing;

BOOST_AUTO_TEST_CASE(config_space_over_vhost_user) {
    auto dir = runvm::broker::testing::TempDir::create("runvm-fs-cfg").value();
    FsOptions o;
    o.shared_dir = dir.path();
    o.tag = "myshare";
    auto dev = FsDevice::open(o);
    REQUIRE_OK(dev);
    auto h = runvm::broker::testing::DeviceHarness::start(dir, std::move(*dev), 4 << 20);
    REQUIRE_OK(h);
    auto config = (*h)->frontend().get_config(0, CONFIG_BYTES);
    REQUIRE_OK(config);
    BOOST_TEST(std::string(reinterpret_cast<const char*>(config->data())) == "myshare");
    BOOST_TEST(get_le<uint32_t>(config->data() + TAG_BYTES) == 1u);
    BOOST_TEST(((*h)->frontend().features() & virtio::F_VERSION_1) != 0u);
    FsOptions no_tag = o;
    no_tag.tag = "";
    BOOST_TEST(!FsDevice::open(no_tag).ok());
    FsOptions missing = o;
    missing.shared_dir = dir.file("missing");
    BOOST_TEST(!FsDevice::open(missing).ok());
}

BOOST_AUTO_TEST_CASE(init_negotiates_protocol_7_31_and_up) {
    FsFixture f;
    auto a = f.c->init();
    BOOST_TEST(a.error == 0);
    const auto out = a.as<fuse_init_out>();
    BOOST_TEST(out.major == 7u);
    BOOST_TEST(out.max_write == MAX_WRITE);
    BOOST_TEST((out.flags & FUSE_DO_READDIRPLUS) != 0u);
    BOOST_TEST((out.flags & FUSE_POSIX_LOCKS) == 0u);
    fuse_init_in old{};
    old.major = 7;
    old.minor = 20;
    BOOST_TEST(f.c->call(FUSE_INIT, 0, FuseArgs().add(old)).error == EPROTO);
    fuse_init_in newer{};
    newer.major = 8;
    a = f.c->call(FUSE_INIT, 0, FuseArgs().add(newer));
    BOOST_TEST(a.error == 0);
    BOOST_TEST(a.data.size() == 8u); // major/minor only: the kernel retries with 7
}

BOOST_AUTO_TEST_CASE(lookup_getattr_and_forget) {
    FsFixture f;
    write_host_file(f.in_share("hello"), "hello world");
    auto a = f.c->lookup(ROOT, "hello");
    BOOST_REQUIRE(a.error == 0);
    const auto e = a.as<fuse_entry_out>();
    BOOST_TEST(e.attr.size == 11u);
    BOOST_TEST(S_ISREG(e.attr.mode));
    BOOST_TEST(e.entry_valid == 1u); // cache=auto
    BOOST_TEST(f.c->lookup(ROOT, "hello").as<fuse_entry_out>().nodeid == e.nodeid);
    BOOST_TEST(f.c->lookup(ROOT, "nope").error == ENOENT);
    auto attr = f.c->call(FUSE_GETATTR, e.nodeid, FuseArgs().add(fuse_getattr_in{}));
    BOOST_TEST(attr.error == 0);
    BOOST_TEST(attr.as<fuse_attr_out>().attr.ino == e.attr.ino);
    const size_t before = f.c->device().server().inode_count();
    fuse_forget_in forget{};
    forget.nlookup = 2;
    BOOST_TEST(!f.c->call(FUSE_FORGET, e.nodeid, FuseArgs().add(forget)).answered);
    BOOST_TEST(f.c->device().server().inode_count() == before - 1);
    BOOST_TEST(f.c->call(FUSE_GETATTR, e.nodeid, FuseArgs().add(fuse_getattr_in{})).error == EBADF);
    // BATCH_FORGET with a count larger than its entries stops at the end of the request.
    const uint64_t n1 = f.node(ROOT, "hello");
    fuse_batch_forget_in batch{};
    batch.count = 1000;
    fuse_forget_one one{};
    one.nodeid = n1;
    one.nlookup = 1;
    f.c->call(FUSE_BATCH_FORGET, 0, FuseArgs().add(batch).add(one));
    BOOST_TEST(f.c->device().server().inode_count() == before - 1);
}

BOOST_AUTO_TEST_CASE(create_write_read_back) {
    FsFixture f;
    auto a = f.c->create(ROOT, "file", O_RDWR, 0640, 1234, 4321);
    BOOST_REQUIRE_EQUAL(a.error, 0);
    const auto entry = a.as<fuse_entry_out>();
    const auto open = a.as<fuse_open_out>(sizeof(fuse_entry_out));
    std::string data(100000, 'x');
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>('a' + i % 26);
    }
    auto w = f.c->write(entry.nodeid, open.fh, 0, data);
    BOOST_REQUIRE_EQUAL(w.error, 0);
    BOOST_TEST(w.as<fuse_write_out>().size == data.size());
    BOOST_TEST(read_host_file(f.in_share("file")) == data);
    auto r = f.c->read(entry.nodeid, open.fh, 5, 1000);
    BOOST_REQUIRE_EQUAL(r.error, 0);
    BOOST_TEST(std::string(r.data.begin(), r.data.end()) == data.substr(5, 1000));
    r = f.c->read(entry.nodeid, open.fh, 99990, 1000); // short at end of file
    BOOST_TEST(r.data.size() == 10u);
    struct stat st {};
    BOOST_REQUIRE(::stat(f.in_share("file").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u);
    if (::geteuid() == 0) {
        BOOST_TEST(st.st_uid == 1234u); // the requester owns what it creates
        BOOST_TEST(st.st_gid == 4321u);
    }
    BOOST_TEST(f.c->release(entry.nodeid, open.fh).error == 0);
    BOOST_TEST(f.c->read(entry.nodeid, open.fh, 0, 10).error == EBADF);
    BOOST_TEST(f.c->device().server().handle_count() == 0u);
    // O_EXCL on an existing name fails; without it, the file is opened (and kept).
    BOOST_TEST(f.c->create(ROOT, "file", O_RDWR | O_EXCL, 0600).error == EEXIST);
    a = f.c->create(ROOT, "file", O_RDONLY, 0600);
    BOOST_TEST(a.error == 0);
    BOOST_TEST(a.as<fuse_entry_out>().nodeid == entry.nodeid);
    BOOST_TEST(a.as<fuse_entry_out>().attr.size == data.size());
}

BOOST_AUTO_TEST_CASE(mkdir_and_readdirplus_in_small_pieces) {
    FsFixture f;
    fuse_mkdir_in mk{};
    mk.mode = 0750;
    auto a = f.c->call(FUSE_MKDIR, ROOT, FuseArgs().add(mk).str("d"));
    BOOST_REQUIRE_EQUAL(a.error, 0);
    const uint64_t d = a.as<fuse_entry_out>().nodeid;
    BOOST_TEST(S_ISDIR(a.as<fuse_entry_out>().attr.mode));
    std::set<std::string> expect{".", ".."};
    for (int i = 0; i < 100; ++i) {
        const std::string name = "entry-" + std::to_string(i);
        write_host_file(f.in_share("d/" + name), "x");
        expect.insert(name);
    }
    for (const bool plus : {false, true}) {
        auto o = f.c->open(d, O_RDONLY, true);
        BOOST_REQUIRE_EQUAL(o.error, 0);
        const uint64_t fh = o.as<fuse_open_out>().fh;
        std::set<std::string> seen;
        uint64_t offset = 0;
        for (int calls = 0; calls < 200; ++calls) {
            auto r = f.c->readdir(d, fh, offset, 600, plus); // a few entries per call
            BOOST_REQUIRE_EQUAL(r.error, 0);
            if (r.data.empty()) {
                break;
            }
            for (size_t at = 0; at < r.data.size();) {
                fuse_entry_out e{};
                if (plus) {
                    e = r.as<fuse_entry_out>(at);
                    at += sizeof(e);
                }
                const auto de = r.as<fuse_dirent>(at);
                const std::string name(reinterpret_cast<const char*>(r.data.data()) + at +
                                           FUSE_NAME_OFFSET,
                                       de.namelen);
                if (plus && name != "." && name != "..") {
                    BOOST_TEST(e.nodeid != 0u);
                    BOOST_TEST(e.attr.size == 1u);
                }
                BOOST_TEST(seen.insert(name).second); // no entry twice
                offset = de.off;
                at += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + de.namelen);
            }
        }
        BOOST_TEST((seen == expect));
        BOOST_TEST(f.c->release(d, fh, true).error == 0);
    }
    BOOST_TEST(f.c->call(FUSE_RMDIR, ROOT, FuseArgs().str("d")).error == ENOTEMPTY);
}

BOOST_AUTO_TEST_CASE(rename_link_symlink_readlink_unlink) {
    FsFixture f;
    write_host_file(f.in_share("a"), "A");
    write_host_file(f.in_share("b"), "B");
    ::mkdir(f.in_share("sub").c_str(), 0755);
    const uint64_t sub = f.node(ROOT, "sub");
    fuse_rename_in rn{};
    rn.newdir = ROOT;
    BOOST_TEST(f.c->call(FUSE_RENAME, ROOT, FuseArgs().add(rn).str("a").str("b")).error == 0);
    BOOST_TEST(read_host_file(f.in_share("b")) == "A");
    fuse_rename2_in rn2{};
    rn2.newdir = sub;
    rn2.flags = RENAME_NOREPLACE;
    BOOST_TEST(f.c->call(FUSE_RENAME2, ROOT, FuseArgs().add(rn2).str("b").str("c")).error == 0);
    BOOST_TEST(read_host_file(f.in_share("sub/c")) == "A");
    rn2.flags = 1U << 30;
    BOOST_TEST(f.c->call(FUSE_RENAME2, sub, FuseArgs().add(rn2).str("c").str("d")).error == EINVAL);

    const uint64_t c = f.node(sub, "c");
    fuse_link_in ln{};
    ln.oldnodeid = c;
    auto a = f.c->call(FUSE_LINK, ROOT, FuseArgs().add(ln).str("hard"));
    BOOST_REQUIRE_EQUAL(a.error, 0);
    BOOST_TEST(a.as<fuse_entry_out>().nodeid == c); // same inode, same node id
    BOOST_TEST(a.as<fuse_entry_out>().attr.nlink == 2u);

    a = f.c->call(FUSE_SYMLINK, ROOT, FuseArgs().str("soft").str("sub/c"));
    BOOST_REQUIRE_EQUAL(a.error, 0);
    const uint64_t soft = a.as<fuse_entry_out>().nodeid;
    BOOST_TEST(S_ISLNK(a.as<fuse_entry_out>().attr.mode));
    auto rl = f.c->call(FUSE_READLINK, soft, FuseArgs());
    BOOST_TEST(std::string(rl.data.begin(), rl.data.end()) == "sub/c");
    BOOST_TEST(f.c->call(FUSE_READLINK, c, FuseArgs()).error == EINVAL);
    // A hard link to a symlink links the symlink itself.
    ln.oldnodeid = soft;
    BOOST_TEST(f.c->call(FUSE_LINK, ROOT, FuseArgs().add(ln).str("soft2")).error == 0);
    char target[64] = {};
    BOOST_TEST(::readlink(f.in_share("soft2").c_str(), target, sizeof(target)) == 5);

    BOOST_TEST(f.c->call(FUSE_UNLINK, ROOT, FuseArgs().str("hard")).error == 0);
    BOOST_TEST(::access(f.in_share("hard").c_str(), F_OK) != 0);
    BOOST_TEST(f.c->call(FUSE_UNLINK, ROOT, FuseArgs().str("hard")).error == ENOENT);
    fuse_mknod_in mn{};
    mn.mode = S_IFIFO | 0600;
    a = f.c->call(FUSE_MKNOD, ROOT, FuseArgs().add(mn).str("fifo"));
    BOOST_TEST(a.error == 0);
    BOOST_TEST(S_ISFIFO(a.as<fuse_entry_out>().attr.mode));
    // The broker never opens a FIFO (it would block the device thread).
    BOOST_TEST(f.c->open(a.as<fuse_entry_out>().nodeid, O_RDONLY).error == ENXIO);
}

BOOST_AUTO_TEST_CASE(setattr_chmod_truncate_times) {
    // runc's behaviour (chown from the guest) is the share's option (issue #21 item 4).
    FsFixture f(CacheMode::auto_, false, [](FsOptions& o) { o.allow_setid = true; });
    write_host_file(f.in_share("f"), "0123456789");
    const uint64_t n = f.node(ROOT, "f");
    fuse_setattr_in in{};
    in.valid = FATTR_MODE | FATTR_SIZE | FATTR_MTIME;
    in.mode = S_IFREG | 0604;
    in.size = 3;
    in.mtime = 1000000000;
    auto a = f.c->call(FUSE_SETATTR, n, FuseArgs().add(in));
    BOOST_REQUIRE_EQUAL(a.error, 0);
    BOOST_TEST(a.as<fuse_attr_out>().attr.size == 3u);
    struct stat st {};
    BOOST_REQUIRE(::stat(f.in_share("f").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0604u);
    BOOST_TEST(st.st_size == 3);
    BOOST_TEST(st.st_mtim.tv_sec == 1000000000);
    if (::geteuid() == 0) {
        in.valid = FATTR_UID | FATTR_GID;
        in.uid = 99;
        in.gid = 98;
        BOOST_TEST(f.c->call(FUSE_SETATTR, n, FuseArgs().add(in)).error == 0);
        BOOST_REQUIRE(::stat(f.in_share("f").c_str(), &st) == 0);
        BOOST_TEST(st.st_uid == 99u);
    }
    // Through an open handle too.
    auto o = f.c->open(n, O_RDWR);
    BOOST_REQUIRE_EQUAL(o.error, 0);
    in.valid = FATTR_SIZE | FATTR_FH;
    in.fh = o.as<fuse_open_out>().fh;
    in.size = 0;
    BOOST_TEST(f.c->call(FUSE_SETATTR, n, FuseArgs().add(in)).error == 0);
    BOOST_TEST(read_host_file(f.in_share("f")).empty());
    in.fh = 777;
    BOOST_TEST(f.c->call(FUSE_SETATTR, n, FuseArgs().add(in)).error == EBADF);
}

namespace {
// A Boost.Test precondition: the case is reported skipped when the filesystem the fixture's
// temp dirs live on takes no user xattrs.
boost::test_tools::assertion_result user_xattrs_supported(boost::unit_test::test_unit_id) {
    FsFixture probe;
    write_host_file(probe.in_share("probe"), "");
    boost::test_tools::assertion_result supported(
        ::setxattr(probe.in_share("probe").c_str(), "user.probe", "1", 1, 0) == 0);
    supported.message() << "no user xattrs on " << probe.share;
    return supported;
}
} // namespace

BOOST_AUTO_TEST_CASE(xattrs_set_get_list_remove,
                     *boost::unit_test::precondition(user_xattrs_supported)) {
    FsFixture f;
    write_host_file(f.in_share("x"), "");
    ::removexattr(f.in_share("x").c_str(), "user.probe");
    const uint64_t n = f.node(ROOT, "x");
    // The 8-byte fuse_setxattr_in of kernels without FUSE_SETXATTR_EXT (6.1 included).
    struct {
        uint32_t size = 5;
        uint32_t flags = 0;
    } s;
    static_assert(sizeof(s) == FUSE_COMPAT_SETXATTR_IN_SIZE);
    BOOST_TEST(f.c->call(FUSE_SETXATTR, n, FuseArgs().add(s).str("user.k").raw("value")).error ==
               0);
    char buf[16] = {};
    BOOST_TEST(::getxattr(f.in_share("x").c_str(), "user.k", buf, sizeof(buf)) == 5);
    fuse_getxattr_in g{};
    auto a = f.c->call(FUSE_GETXATTR, n, FuseArgs().add(g).str("user.k"));
    BOOST_TEST(a.as<fuse_getxattr_out>().size == 5u);
    g.size = 64;
    a = f.c->call(FUSE_GETXATTR, n, FuseArgs().add(g).str("user.k"));
    BOOST_TEST(std::string(a.data.begin(), a.data.end()) == "value");
    g.size = 2;
    BOOST_TEST(f.c->call(FUSE_GETXATTR, n, FuseArgs().add(g).str("user.k")).error == ERANGE);
    g.size = 64;
    a = f.c->call(FUSE_LISTXATTR, n, FuseArgs().add(g));
    BOOST_TEST(std::string(a.data.begin(), a.data.end()) == std::string("user.k\0", 7));
    BOOST_TEST(f.c->call(FUSE_REMOVEXATTR, n, FuseArgs().str("user.k")).error == 0);
    BOOST_TEST(f.c->call(FUSE_GETXATTR, n, FuseArgs().add(g).str("user.k")).error == ENODATA);
    // A value length that disagrees with the bytes sent is refused.
    s.size = 50;
    BOOST_TEST(f.c->call(FUSE_SETXATTR, n, FuseArgs().add(s).str("user.k").raw("v")).error ==
               EINVAL);
    // A symlink's xattrs are neither changed nor read (the path would follow the link), and
    // an unknown node is EBADF.
    BOOST_REQUIRE(::symlink("x", f.in_share("link").c_str()) == 0);
    const uint64_t link = f.node(ROOT, "link");
    s.size = 1;
    BOOST_TEST(f.c->call(FUSE_SETXATTR, link, FuseArgs().add(s).str("user.k").raw("v")).error ==
               EPERM);
    BOOST_TEST(f.c->call(FUSE_REMOVEXATTR, link, FuseArgs().str("user.k")).error == EPERM);
    BOOST_TEST(f.c->call(FUSE_GETXATTR, link, FuseArgs().add(g).str("user.k")).error == ENODATA);
    BOOST_TEST(f.c->call(FUSE_REMOVEXATTR, 999999, FuseArgs().str("user.k")).error == EBADF);
}

BOOST_AUTO_TEST_CASE(statfs_access_fsync_fallocate_lseek_copy) {
    FsFixture f;
    auto a = f.c->call(FUSE_STATFS, ROOT, FuseArgs());
    BOOST_TEST(a.error == 0);
    BOOST_TEST(a.as<fuse_statfs_out>().st.bsize > 0u);
    auto c = f.c->create(ROOT, "src", O_RDWR, 0644);
    BOOST_REQUIRE_EQUAL(c.error, 0);
    const uint64_t src = c.as<fuse_entry_out>().nodeid;
    const uint64_t sfh = c.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
    fuse_access_in acc{};
    acc.mask = R_OK | W_OK;
    BOOST_TEST(f.c->call(FUSE_ACCESS, src, FuseArgs().add(acc)).error == 0);
    BOOST_TEST(f.c->write(src, sfh, 1 << 20, "tail").error == 0); // a hole before
    fuse_fsync_in fs{};
    fs.fh = sfh;
    BOOST_TEST(f.c->call(FUSE_FSYNC, src, FuseArgs().add(fs)).error == 0);
    // FLUSH has nothing to do here: ENOSYS tells the kernel to stop sending it.
    fuse_flush_in fl{};
    fl.fh = sfh;
    BOOST_TEST(f.c->call(FUSE_FLUSH, src, FuseArgs().add(fl)).error == ENOSYS);
    fuse_lseek_in ls{};
    ls.fh = sfh;
    ls.whence = SEEK_DATA;
    a = f.c->call(FUSE_LSEEK, src, FuseArgs().add(ls));
    BOOST_TEST(a.error == 0);
    BOOST_TEST(a.as<fuse_lseek_out>().offset >= 4096u); // data only at the end
    fuse_fallocate_in fa{};
    fa.fh = sfh;
    fa.length = 8192;
    BOOST_TEST(f.c->call(FUSE_FALLOCATE, src, FuseArgs().add(fa)).error == 0);
    auto d = f.c->create(ROOT, "dst", O_RDWR, 0644);
    BOOST_REQUIRE_EQUAL(d.error, 0);
    fuse_copy_file_range_in cp{};
    cp.fh_in = sfh;
    cp.off_in = 1 << 20;
    cp.fh_out = d.as<fuse_open_out>(sizeof(fuse_entry_out)).fh;
    cp.len = 4;
    a = f.c->call(FUSE_COPY_FILE_RANGE, src, FuseArgs().add(cp));
    BOOST_TEST(a.error == 0);
    BOOST_TEST(a.as<fuse_write_out>().size == 4u);
    BOOST_TEST(read_host_file(f.in_share("dst")) == "tail");
}

BOOST_AUTO_TEST_CASE(read_only_share_refuses_writes) {
    FsFixture f(CacheMode::auto_, true);
    write_host_file(f.in_share("r"), "data");
    const uint64_t n = f.node(ROOT, "r");
    BOOST_TEST(f.c->create(ROOT, "new", O_RDWR, 0644).error == EROFS);
    BOOST_TEST(f.c->open(n, O_RDWR).error == EROFS);
    BOOST_TEST(f.c->open(n, O_RDONLY | O_TRUNC).error == EROFS);
    fuse_mkdir_in mk{};
    BOOST_TEST(f.c->call(FUSE_MKDIR, ROOT, FuseArgs().add(mk).str("d")).error == EROFS);
    BOOST_TEST(f.c->call(FUSE_UNLINK, ROOT, FuseArgs().str("r")).error == EROFS);
    fuse_setattr_in sa{};
    sa.valid = FATTR_SIZE;
    BOOST_TEST(f.c->call(FUSE_SETATTR, n, FuseArgs().add(sa)).error == EROFS);
    auto o = f.c->open(n, O_RDONLY);
    BOOST_REQUIRE_EQUAL(o.error, 0);
    auto r = f.c->read(n, o.as<fuse_open_out>().fh, 0, 100);
    BOOST_TEST(std::string(r.data.begin(), r.data.end()) == "data");
    BOOST_TEST(read_host_file(f.in_share("r")) == "data");
}

BOOST_AUTO_TEST_CASE(cache_modes_set_timeouts_and_open_flags) {
    using Case = std::tuple<CacheMode, uint64_t, uint32_t>;
    for (auto [mode, timeout, flags] :
         {Case{CacheMode::none, 0, FOPEN_DIRECT_IO}, Case{CacheMode::auto_, 1, 0},
          Case{CacheMode::always, 86400, FOPEN_KEEP_CACHE}}) {
        FsFixture f(mode);
        write_host_file(f.in_share("f"), "x");
        auto a = f.c->lookup(ROOT, "f");
        BOOST_TEST(a.as<fuse_entry_out>().entry_valid == timeout);
        auto o = f.c->open(a.as<fuse_entry_out>().nodeid, O_RDONLY);
        BOOST_TEST(o.as<fuse_open_out>().open_flags == flags);
        // A missing name: ENOENT, except that cache=always lets the guest cache the absence.
        auto missing = f.c->lookup(ROOT, "missing");
        if (mode == CacheMode::always) {
            BOOST_TEST(missing.error == 0);
            BOOST_TEST(missing.as<fuse_entry_out>().nodeid == 0u);
            BOOST_TEST(missing.as<fuse_entry_out>().entry_valid == 86400u);
        } else {
            BOOST_TEST(missing.error == ENOENT);
        }
    }
    BOOST_TEST(!parse_cache_mode("sometimes").ok());
    BOOST_TEST((parse_cache_mode("always").value() == CacheMode::always));
}

BOOST_AUTO_TEST_CASE(spec_parses_into_options) {
    auto o = parse_options(
        parse_device_spec("/run/f.sock,dir=/srv/share,tag=share,cache=none,ro", SPEC_KEYS).value());
    BOOST_REQUIRE(o.ok());
    BOOST_TEST(o->shared_dir == "/srv/share");
    BOOST_TEST(o->tag == "share");
    BOOST_TEST((o->cache == CacheMode::none));
    BOOST_TEST(o->read_only);
    auto no_tag = parse_options(parse_device_spec("/run/f.sock,dir=/srv", SPEC_KEYS).value());
    BOOST_REQUIRE(!no_tag.ok());
    BOOST_TEST(no_tag.error().str().find("dir= and tag= are required") != std::string::npos);
    BOOST_TEST(
        !parse_options(parse_device_spec("/run/f.sock,dir=/d,tag=t,cache=x", SPEC_KEYS).value())
             .ok());
}
