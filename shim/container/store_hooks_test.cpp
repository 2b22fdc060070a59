// Container store, hooks, signals, boot timeline, broker command line, sandbox failures.
#include <csignal>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/hooks.hpp"
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
    r.monitor_pid = ::getpid();
    r.exit_status = 3;
    r.annotations["k"] = "v";
    BOOST_REQUIRE(store.save(r).ok());
    auto back = store.load("c1");
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(back->bundle == "/b");
    BOOST_TEST(back->exit_status.value() == 3);
    BOOST_TEST(back->annotations.at("k") == "v");
    BOOST_TEST(effective_status(*back) == "running");
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

BOOST_AUTO_TEST_CASE(hooks_get_the_state_on_stdin_in_order) {
    TempDir d;
    const std::string log = d.path + "/log";
    oci::Hook a;
    a.path = "/bin/sh";
    a.args = std::vector<std::string>{"sh", "-c", "cat >> " + log + "; echo >> " + log};
    oci::Hook b;
    b.path = "/bin/sh";
    b.args = std::vector<std::string>{"sh", "-c", "echo \"second $X\" >> " + log};
    b.env = std::vector<std::string>{"X=y"};
    BOOST_REQUIRE(run_hooks(std::vector<oci::Hook>{a, b}, "prestart", R"({"id":"c"})").ok());
    BOOST_TEST(slurp(log) == "{\"id\":\"c\"}\nsecond y\n");
}

BOOST_AUTO_TEST_CASE(a_hook_that_ignores_its_stdin_neither_blocks_nor_kills_the_caller) {
    // Larger than a pipe's buffer, and SIGPIPE left at its default action: with the state
    // on a pipe this would block until the timeout or kill the test process.
    ::signal(SIGPIPE, SIG_DFL);
    const std::string state(1 << 20, 'x');
    oci::Hook ignores;
    ignores.path = "/bin/true";
    ignores.timeout = 5;
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{ignores}, "prestart", state).ok());
    oci::Hook counts;
    counts.path = "/bin/sh";
    counts.args = std::vector<std::string>{"sh", "-c", "test $(wc -c) = 1048576"};
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{counts}, "prestart", state).ok());
}

BOOST_AUTO_TEST_CASE(failing_and_slow_hooks_are_reported) {
    oci::Hook fails;
    fails.path = "/bin/false";
    auto r = run_hooks(std::vector<oci::Hook>{fails}, "createRuntime", "{}");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str().find("createRuntime hook 0 (/bin/false) failed") !=
               std::string::npos);
    oci::Hook slow;
    slow.path = "/bin/sleep";
    slow.args = std::vector<std::string>{"sleep", "10"};
    slow.timeout = 1;
    const auto t0 = std::chrono::steady_clock::now();
    auto t = run_hooks(std::vector<oci::Hook>{slow}, "poststart", "{}");
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().code() == ETIMEDOUT);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    oci::Hook missing;
    missing.path = "/no/such/hook";
    BOOST_TEST(run_hooks(std::vector<oci::Hook>{missing}, "prestart", "{}")
                   .error()
                   .str()
                   .find("cannot execute /no/such/hook") != std::string::npos);
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
    BOOST_TEST(with_fs[6] == "/r/fs.sock,dir=/r/shared,tag=runvm");
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
    o.kernel = d.path + "/missing-vmlinuz";
    o.initrd = d.write("initrd", "x");
    o.hypervisor = HypervisorKind::qemu;
    o.broker_binary = "/bin/false";
    if (std::system("command -v mke2fs >/dev/null") == 0) {
        o.rootfs_dir = d.path + "/rootfs";
    }
    auto sb = Sandbox::boot(o);
    BOOST_REQUIRE(!sb.ok());
    BOOST_TEST(sb.error().str().find("missing-vmlinuz") != std::string::npos);
    BOOST_TEST(::access(o.run_dir.c_str(), F_OK) != 0); // image and dir removed
}
