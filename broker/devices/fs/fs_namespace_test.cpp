// The real runvm-broker serving a share from its own mount namespace: FUSE still answered
// over vhost-user (the reads and chmod go through its private /proc), its mount table holds
// only the tmpfs root, /proc and the kept directories, host paths are out of its reach, and
// its sockets are removed on SIGTERM. Needs root (exits 77 without CAP_SYS_ADMIN).
#define BOOST_TEST_MODULE broker_fs_namespace
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "broker/devices/fs/fs_test_client.hpp"
#include "broker/testing/require_ok.hpp"
#include "broker/testing/temp_dir.hpp"
#include "broker/testing/vhost_user_test_frontend.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;
using runvm::broker::fs::testing::FuseAnswer;
using runvm::broker::fs::testing::FuseArgs;

namespace {

std::string real(const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// mount point -> "<fstype> <mount options> <super options>" from a mountinfo text.
std::map<std::string, std::string> mounts_of(const std::string& mountinfo) {
    std::map<std::string, std::string> out;
    std::istringstream lines(mountinfo);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream f(line);
        std::string id, parent, dev, root, point, options, field;
        f >> id >> parent >> dev >> root >> point >> options;
        while (f >> field && field != "-") {
        }
        std::string type, source, super;
        f >> type >> source >> super;
        out[point] = type + " " + options + " " + super;
    }
    return out;
}

// The guest's side of the share: FUSE requests on ring 1 through a real vhost-user frontend.
class RemoteFuse {
public:
    RemoteFuse(const std::string& socket) {
        auto mem = TestGuestMemory::create(8 << 20);
        REQUIRE_OK(mem);
        mem_ = std::make_unique<TestGuestMemory>(std::move(*mem));
        auto fe = VhostUserTestFrontend::connect(socket, 5000);
        REQUIRE_OK(fe);
        fe_ = std::make_unique<VhostUserTestFrontend>(std::move(*fe));
        auto negotiated = fe_->negotiate(~0ULL, *mem_);
        REQUIRE_OK(negotiated);
        hiprio_ = std::make_unique<VirtqueueDriver>(*mem_, 64);
        requests_ = std::make_unique<VirtqueueDriver>(*mem_, 64);
        auto hiprio_started = fe_->start_ring(0, *hiprio_);
        REQUIRE_OK(hiprio_started);
        auto requests_started = fe_->start_ring(1, *requests_);
        REQUIRE_OK(requests_started);
    }

    FuseAnswer call(uint32_t opcode, uint64_t nodeid, const FuseArgs& args,
                    uint32_t out_room = 8192) {
        fuse_in_header h{};
        h.len = static_cast<uint32_t>(sizeof(h) + args.bytes().size());
        h.opcode = opcode;
        h.unique = ++unique_;
        h.nodeid = nodeid;
        const uint64_t in = mem_->alloc(h.len);
        std::memcpy(mem_->host(in), &h, sizeof(h));
        std::memcpy(mem_->host(in) + sizeof(h), args.bytes().data(), args.bytes().size());
        const uint64_t out = mem_->alloc(out_room);
        FuseAnswer a;
        if (!requests_->add({{in, h.len, false}, {out, out_room, true}})) {
            return a;
        }
        requests_->publish();
        if (!fe_->kick(1).ok()) {
            return a;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        std::optional<virtio::UsedElement> used;
        while (!(used = requests_->take_used()) && std::chrono::steady_clock::now() < deadline) {
            requests_->arm_interrupt();
            if ((used = requests_->take_used())) {
                break;
            }
            (void)fe_->wait_call(1, 100);
        }
        if (used && used->len >= sizeof(fuse_out_header)) {
            fuse_out_header oh{};
            std::memcpy(&oh, mem_->host(out), sizeof(oh));
            a.answered = true;
            a.used = used->len;
            a.error = -oh.error;
            const size_t n = std::min<size_t>(oh.len, used->len);
            if (n > sizeof(oh)) {
                a.data.assign(mem_->host(out) + sizeof(oh), mem_->host(out) + n);
            }
        }
        return a;
    }

private:
    std::unique_ptr<TestGuestMemory> mem_;
    std::unique_ptr<VhostUserTestFrontend> fe_;
    std::unique_ptr<VirtqueueDriver> hiprio_;
    std::unique_ptr<VirtqueueDriver> requests_;
    uint64_t unique_ = 0;
};

} // namespace

BOOST_AUTO_TEST_CASE(broker_serves_from_a_namespace_of_the_shared_directories) {
    auto made = TempDir::create("runvm-fs-ns");
    REQUIRE_OK(made);
    TempDir& dir = *made;
    const std::string share = dir.file("share");
    const std::string vsock_dir = dir.file("vsock");
    BOOST_REQUIRE(::mkdir(share.c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir(vsock_dir.c_str(), 0755) == 0);
    std::ofstream(share + "/hello") << "from the host\n";
    std::ofstream(dir.file("canary")) << "outside the share\n";
    const std::string fs_sock = dir.file("fs.vu");
    const std::string vsock_uds = vsock_dir + "/v";

    SpawnOptions so;
    so.stdin_null = true;
    auto broker = ChildProcess::spawn({RUNVM_BROKER_BINARY, "--log-level", "info", "--log-file",
                                       dir.file("broker.log"), "--fs",
                                       fs_sock + ",dir=" + share + ",tag=nstest", "--vsock",
                                       dir.file("vsock.vu") + ",uds=" + vsock_uds + ",cid=3"},
                                      so);
    REQUIRE_OK(broker);
    for (int i = 0; i < 100 && !exists(fs_sock); ++i) {
        ::usleep(50'000);
    }
    BOOST_REQUIRE_MESSAGE(exists(fs_sock),
                          "no socket; broker log: " << slurp(dir.file("broker.log")));

    // The device answers only once setup is done: the namespace is in place from here on.
    RemoteFuse fuse(fs_sock);
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = 36;
    init.max_readahead = 128 << 10;
    BOOST_REQUIRE_EQUAL(fuse.call(FUSE_INIT, 0, FuseArgs().add(init)).error, 0);
    auto hello = fuse.call(FUSE_LOOKUP, FUSE_ROOT_ID, FuseArgs().str("hello"));
    BOOST_REQUIRE_EQUAL(hello.error, 0);
    const uint64_t node = hello.as<fuse_entry_out>().nodeid;
    fuse_open_in open{};
    auto opened = fuse.call(FUSE_OPEN, node, FuseArgs().add(open)); // via /proc/self/fd
    BOOST_REQUIRE_EQUAL(opened.error, 0);
    fuse_read_in read{};
    read.fh = opened.as<fuse_open_out>().fh;
    read.size = 4096;
    auto data = fuse.call(FUSE_READ, node, FuseArgs().add(read), 4096 + sizeof(fuse_out_header));
    BOOST_REQUIRE_EQUAL(data.error, 0);
    BOOST_TEST(std::string(data.data.begin(), data.data.end()) == "from the host\n");
    fuse_create_in create{};
    create.flags = O_WRONLY;
    create.mode = S_IFREG | 0644;
    auto made_file = fuse.call(FUSE_CREATE, FUSE_ROOT_ID, FuseArgs().add(create).str("guest"));
    BOOST_REQUIRE_EQUAL(made_file.error, 0);
    fuse_setattr_in chmod{};
    chmod.valid = FATTR_MODE;
    chmod.mode = S_IFREG | 0600; // fchmodat on /proc/self/fd/<n>
    BOOST_TEST(fuse.call(FUSE_SETATTR, made_file.as<fuse_entry_out>().nodeid, FuseArgs().add(chmod))
                   .error == 0);
    struct stat st {};
    BOOST_TEST(::stat((share + "/guest").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0600u);

    // Its mount table: the read-only tmpfs root, its /proc, the share and the vsock
    // socket's directory (where host sockets for guest-initiated connections appear).
    const std::string pid = std::to_string(broker->pid());
    const auto mounts = mounts_of(slurp("/proc/" + pid + "/mountinfo"));
    std::string points;
    for (const auto& [point, what] : mounts) {
        points += point + " ";
    }
    BOOST_TEST(mounts.count("/") == 1u);
    BOOST_TEST(mounts.count("/proc") == 1u);
    BOOST_TEST(mounts.count(real(share)) == 1u);
    BOOST_TEST(mounts.count(real(vsock_dir)) == 1u);
    BOOST_TEST(mounts.size() == 4u, "mount points: " << points);
    if (mounts.count("/")) {
        BOOST_TEST(mounts.at("/").rfind("tmpfs ro,", 0) == 0u, mounts.at("/"));
    }
    if (mounts.count("/proc")) {
        BOOST_TEST(mounts.at("/proc").rfind("proc ro,", 0) == 0u, mounts.at("/proc"));
        BOOST_TEST(mounts.at("/proc").find("hidepid=") != std::string::npos, mounts.at("/proc"));
    }
    if (mounts.count(real(share))) {
        BOOST_TEST(mounts.at(real(share)).find("nosuid,nodev,noexec") != std::string::npos,
                   mounts.at(real(share)));
    }
    // Its root holds nothing of the host's but the kept directories.
    const std::string root = "/proc/" + pid + "/root";
    BOOST_TEST(exists(root + real(share) + "/hello"));
    BOOST_TEST(!exists(root + "/etc/passwd"));
    BOOST_TEST(!exists(root + real(dir.file("canary"))));
    BOOST_TEST(!exists(root + "/usr"));

    auto signalled = broker->signal(SIGTERM);
    REQUIRE_OK(signalled);
    auto status = broker->wait_for(5000);
    REQUIRE_OK(status);
    BOOST_REQUIRE(status->has_value());
    BOOST_TEST(WIFEXITED(**status));
    BOOST_TEST(WEXITSTATUS(**status) == 0);
    BOOST_TEST(!exists(fs_sock), "the fs socket, outside the namespace, is removed");
    BOOST_TEST(!exists(dir.file("vsock.vu")));
    BOOST_TEST(!exists(vsock_uds));
    BOOST_TEST(slurp(dir.file("broker.log")).find("mount namespace keeps") != std::string::npos);
}

// Issue #21 item 4: a recursive bind copies each submount with its own flags; the broker
// makes every mount under a share nosuid,nodev,noexec, not only the top one, and the host's
// own mount is left as it was.
BOOST_AUTO_TEST_CASE(submounts_of_a_share_are_nosuid_nodev_noexec) {
    auto made = TempDir::create("runvm-fs-ns-sub");
    REQUIRE_OK(made);
    TempDir& dir = *made;
    const std::string share = dir.file("share");
    const std::string vol = share + "/vol";
    BOOST_REQUIRE(::mkdir(share.c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkdir(vol.c_str(), 0755) == 0);
    BOOST_REQUIRE(::mount("none", vol.c_str(), "tmpfs", 0, "size=64k") == 0);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{vol};
    const std::string fs_sock = dir.file("fs.vu");
    SpawnOptions so;
    so.stdin_null = true;
    auto broker = ChildProcess::spawn({RUNVM_BROKER_BINARY, "--log-file", dir.file("broker.log"),
                                       "--fs", fs_sock + ",dir=" + share + ",tag=sub"},
                                      so);
    REQUIRE_OK(broker);
    for (int i = 0; i < 100 && !exists(fs_sock); ++i) {
        ::usleep(50'000);
    }
    BOOST_REQUIRE_MESSAGE(exists(fs_sock),
                          "no socket; broker log: " << slurp(dir.file("broker.log")));
    RemoteFuse fuse(fs_sock);
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = 36;
    BOOST_REQUIRE_EQUAL(fuse.call(FUSE_INIT, 0, FuseArgs().add(init)).error, 0);

    const auto mounts = mounts_of(slurp("/proc/" + std::to_string(broker->pid()) + "/mountinfo"));
    BOOST_REQUIRE(mounts.count(real(vol)) == 1u);
    BOOST_TEST(mounts.at(real(vol)).find("nosuid,nodev,noexec") != std::string::npos,
               mounts.at(real(vol)));
    const auto host = mounts_of(slurp("/proc/self/mountinfo"));
    BOOST_REQUIRE(host.count(real(vol)) == 1u);
    BOOST_TEST(host.at(real(vol)).find("nosuid") == std::string::npos, host.at(real(vol)));

    REQUIRE_OK(broker->signal(SIGTERM));
    auto status = broker->wait_for(5000);
    REQUIRE_OK(status);
    BOOST_REQUIRE(status->has_value());
    BOOST_TEST(WIFEXITED(**status));
}

int main(int argc, char* argv[]) {
    // The namespace needs CAP_SYS_ADMIN: probe with a tmpfs on a scratch directory.
    auto probe = TempDir::create("runvm-fs-ns-probe");
    if (!probe || ::mount("none", probe->path().c_str(), "tmpfs", 0, "size=4k") != 0) {
        std::printf("skipped: mount(2) not permitted here\n");
        return 77;
    }
    ::umount2(probe->path().c_str(), MNT_DETACH);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
