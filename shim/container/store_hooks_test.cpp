// Container store, signals, boot timeline, broker command line, sandbox failures.
#include <csignal>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/sandbox/boot_timeline.hpp"
#include "shim/sandbox/broker_process.hpp"
#include "shim/sandbox/sandbox.hpp"
#include "shim/sandbox/test_support.hpp"

using namespace runvm;
using namespace runvm::shim;
using namespace std::chrono_literals;
using runvm::shim::testing::slurp;
using runvm::shim::testing::TempDir;

BOOST_AUTO_TEST_CASE(container_ids_follow_runc) {
    for (const char* ok : {"a", "abc-1_2.3+4", "0123456789abcdef"}) {
        BOOST_TEST(validate_container_id(ok).ok());
    }
    for (const char* bad : {"", ".", "..", "a/b", "a b", "x\n"}) {
        BOOST_TEST(!validate_container_id(bad).ok());
    }
}

BOOST_AUTO_TEST_CASE(store_round_trips_and_refuses_duplicates) {
    TempDir d;
    ContainerStore store(d.path + "/root/nested");
    BOOST_REQUIRE(store.create_dir("c1").ok());
    auto again = store.create_dir("c1");
    BOOST_REQUIRE(!again.ok());
    BOOST_TEST(again.error().code() == EEXIST);
    ContainerRecord r;
    r.id = "c1";
    r.bundle = "/b";
    r.status = "running";
    BOOST_REQUIRE(r.set_monitor_to_self().ok());
    r.exit_status = 3;
    r.annotations["k"] = "v";
    BOOST_REQUIRE(store.save(r).ok());
    auto back = store.load("c1");
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->bundle == "/b");
    BOOST_TEST(back->exit_status.value() == 3);
    BOOST_TEST(back->annotations.at("k") == "v");
    BOOST_TEST(back->monitor_start_time == r.monitor_start_time);
    BOOST_TEST(effective_status(*back) == "running");
    back->monitor_start_time += 1; // the pid now another process's
    BOOST_TEST(effective_status(*back) == "stopped");
    back->monitor_pid = 0;
    BOOST_TEST(effective_status(*back) == "stopped");
    BOOST_TEST(store.list().value() == std::vector<std::string>{"c1"});
    auto missing = store.load("c2");
    BOOST_TEST(missing.error().code() == ENOENT);
    BOOST_TEST(missing.error().str().find("does not exist") != std::string::npos);
    BOOST_TEST(store.run_dir("c1").size() < 40u);
    BOOST_TEST(store.run_dir("c1") != store.run_dir("c2"));
    BOOST_REQUIRE(store.remove("c1").ok());
    BOOST_TEST(store.list().value().empty());
}

BOOST_AUTO_TEST_CASE(state_of_a_container_whose_monitor_is_gone_is_stopped) {
    TempDir d;
    ContainerStore store(d.path);
    BOOST_REQUIRE(store.create_dir("gone").ok());
    ContainerRecord r;
    r.id = "gone";
    r.bundle = "/b";
    r.status = "running";
    r.monitor_pid = 999999; // above pid_max's default: never alive
    BOOST_REQUIRE(store.save(r).ok());
    auto st = container_state(d.path, "gone");
    BOOST_REQUIRE(st.ok());
    BOOST_TEST((*st)["status"] == "stopped");
    BOOST_TEST((*st)["pid"] == 0);
    BOOST_TEST(!start_container(d.path, "gone").ok());
    BOOST_REQUIRE(delete_container(d.path, "gone", false).ok());
    BOOST_TEST(!container_state(d.path, "gone").ok());
}

BOOST_AUTO_TEST_CASE(store_directories_are_checked_before_use) {
    TempDir d;
    ContainerStore fresh(d.path + "/made");
    BOOST_REQUIRE(fresh.create_dir("c").ok());
    struct stat st {};
    BOOST_REQUIRE(::stat((d.path + "/made/c").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0700u);
    // A symlink planted at the root or at a container's name is not followed.
    BOOST_REQUIRE(::mkdir((d.path + "/elsewhere").c_str(), 0700) == 0);
    BOOST_REQUIRE(::symlink((d.path + "/elsewhere").c_str(), (d.path + "/link").c_str()) == 0);
    ContainerStore linked(d.path + "/link");
    auto made = linked.create_dir("c");
    BOOST_TEST(made.error().code() == ELOOP);
    BOOST_TEST(made.error().str().find(d.path + "/link: is a symlink") != std::string::npos);
    BOOST_TEST(linked.list().error().code() == ELOOP);
    BOOST_TEST(linked.load("c").error().code() == ELOOP);
    BOOST_REQUIRE(::symlink((d.path + "/elsewhere").c_str(), (d.path + "/made/x").c_str()) == 0);
    BOOST_TEST(fresh.load("x").error().code() == ELOOP);
    BOOST_TEST(fresh.create_dir("x").error().code() == EEXIST);
    // A root others may write to is refused.
    BOOST_REQUIRE(::chmod((d.path + "/made").c_str(), 0777) == 0);
    auto open_root = fresh.load("c");
    BOOST_TEST(open_root.error().str().find("lets group or others write") != std::string::npos);
    BOOST_TEST(!fresh.create_dir("d").ok());
}

BOOST_AUTO_TEST_CASE(delete_signals_the_recorded_monitor_only) {
    TempDir d;
    ContainerStore store(d.path);
    auto sleeper = ChildProcess::fork_child("stand-in monitor", [] {
        ::pause();
        return 0;
    });
    BOOST_REQUIRE(sleeper.ok());
    ContainerRecord r;
    r.bundle = "/b";
    r.status = "running";
    r.monitor_pid = sleeper->pid();
    r.monitor_start_time = ProcessHandle::start_time(sleeper->pid()).value() + 1;
    // Its pid, another start time: a later process that reused the pid, not signalled.
    r.id = "reused";
    BOOST_REQUIRE(store.create_dir(r.id).ok() && store.save(r).ok());
    BOOST_TEST((*container_state(d.path, r.id))["status"] == "stopped");
    BOOST_REQUIRE(delete_container(d.path, r.id, true).ok());
    BOOST_TEST(!sleeper->wait_for(100).value().has_value());
    // The recorded monitor, whose control socket does not answer: delete --force kills it.
    r.id = "recorded";
    r.monitor_start_time -= 1;
    BOOST_REQUIRE(store.create_dir(r.id).ok() && store.save(r).ok());
    BOOST_TEST((*container_state(d.path, r.id))["status"] == "running");
    BOOST_REQUIRE(delete_container(d.path, r.id, true).ok());
    const auto status = sleeper->wait_for(10'000).value();
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(WTERMSIG(*status) == SIGKILL);
}

BOOST_AUTO_TEST_CASE(signals_by_name_or_number) {
    BOOST_TEST(parse_signal("KILL").value() == SIGKILL);
    BOOST_TEST(parse_signal("SIGTERM").value() == SIGTERM);
    BOOST_TEST(parse_signal("sigusr1").value() == SIGUSR1);
    BOOST_TEST(parse_signal("9").value() == 9);
    BOOST_TEST(!parse_signal("0").ok());
    BOOST_TEST(!parse_signal("NOPE").ok());
}

BOOST_AUTO_TEST_CASE(timeline_keeps_order_and_round_trips) {
    BootTimeline t;
    t.mark("hypervisor started");
    t.mark("agent ready");
    t.mark("hypervisor started");
    BOOST_REQUIRE(t.phases().size() == 2u);
    BOOST_TEST(t.phases()[0].second <= t.phases()[1].second);
    auto back = BootTimeline::from_json(t.to_json());
    BOOST_TEST(back.phases().size() == 2u);
    BOOST_TEST(back.phases()[1].first == "agent ready");
    BOOST_TEST(t.str().find("agent ready") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(broker_command_line_follows_docs_broker_md) {
    BrokerConfig c;
    c.vsock_socket = "/r/v.sock";
    c.vsock_uds = "/r/vsock";
    c.blk_socket = "/r/b.sock";
    c.blk_image = "/r/rootfs.img";
    c.blk_readonly = true;
    const auto argv = BrokerProcess::command(c);
    BOOST_REQUIRE(argv.size() == 5u);
    BOOST_TEST(argv[2] == "/r/v.sock,uds=/r/vsock,cid=3");
    BOOST_TEST(argv[4] == "/r/b.sock,path=/r/rootfs.img,ro");
    c.fs_socket = "/r/fs.sock";
    c.fs_dir = "/r/shared";
    c.fs_tag = "runvm";
    const auto with_fs = BrokerProcess::command(c);
    BOOST_REQUIRE(with_fs.size() == 7u);
    BOOST_TEST(with_fs[5] == "--fs");
    BOOST_TEST(with_fs[6] == "/r/fs.sock,dir=/r/shared,tag=runvm,allow_setid=rootfs");
}

BOOST_AUTO_TEST_CASE(broker_that_dies_at_start_is_reported) {
    TempDir d;
    BrokerConfig c;
    c.binary = d.write("broker", "#!/bin/sh\necho 'bad flag' >&2\nexit 2\n", 0755);
    c.vsock_socket = d.path + "/v.sock";
    c.vsock_uds = d.path + "/vsock";
    c.log_path = d.path + "/broker.log";
    auto b = BrokerProcess::start(c, 5s);
    BOOST_REQUIRE(!b.ok());
    BOOST_TEST(b.error().str().find("exited with status") != std::string::npos);
    BOOST_TEST(slurp(c.log_path).find("bad flag") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sandbox_with_a_missing_kernel_fails_clearly_and_leaves_nothing) {
    TempDir d;
    ::mkdir((d.path + "/rootfs").c_str(), 0755);
    d.write("rootfs/file", "x");
    SandboxOptions o;
    o.id = "k";
    o.run_dir = d.path + "/vm";
    o.settings.kernel = d.path + "/missing-vmlinuz";
    o.settings.initrd = d.write("initrd", "x");
    o.settings.hypervisor = config::Hypervisor::qemu;
    o.settings.paths.broker = "/bin/false";
    if (std::system("command -v mke2fs >/dev/null") == 0) {
        o.rootfs_dir = d.path + "/rootfs";
    }
    auto sb = Sandbox::boot(o);
    BOOST_REQUIRE(!sb.ok());
    BOOST_TEST(sb.error().str().find("missing-vmlinuz") != std::string::npos);
    BOOST_TEST(::access(o.run_dir.c_str(), F_OK) != 0); // image and dir removed
}
