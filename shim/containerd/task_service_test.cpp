// TaskService without a VM: lookups, refusals, a failing `runvm create`, Shutdown, and the
// calls that answer from the shim's own state.
#include <atomic>
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/containerd/event_sink_test_support.hpp"
#include "shim/containerd/task_service.hpp"
#include "shim/containerd/test_reaper.hpp"

using namespace runvm;
using namespace runvm::containerd;
using namespace std::chrono_literals;

namespace {

struct ServiceFixture {
    std::string dir;
    test::EventSink sink;
    std::unique_ptr<EventPublisher> events;
    std::atomic<int> shutdowns{0};
    std::unique_ptr<TaskService> service;

    explicit ServiceFixture(const std::string& runvm = "/bin/false") {
        std::string t = "/tmp/runvm-shim-svc-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(t.data()));
        dir = t;
        std::filesystem::create_directories(dir + "/bundle/rootfs");
        events = std::make_unique<EventPublisher>(sink.path(), "default");
        TaskServiceOptions o;
        o.ns = "default";
        o.runvm_root = dir + "/root";
        o.runvm_binary = runvm;
        o.create_timeout = 10s;
        service =
            std::make_unique<TaskService>(o, *events, test::reaper(), [this] { ++shutdowns; });
    }
    ~ServiceFixture() {
        service.reset();
        events.reset();
        std::filesystem::remove_all(dir);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(task_service)

BOOST_AUTO_TEST_CASE(unknown_container_is_not_found_everywhere) {
    ServiceFixture f;
    taskapi::StateRequest sq;
    sq.set_id("nope");
    taskapi::StateResponse sr;
    BOOST_TEST(f.service->state(sq, sr).code == rpc::kNotFound);
    taskapi::KillRequest kq;
    kq.set_id("nope");
    kq.set_signal(9);
    BOOST_TEST(f.service->kill(kq).code == rpc::kNotFound);
    taskapi::DeleteRequest dq;
    dq.set_id("nope");
    taskapi::DeleteResponse dr;
    BOOST_TEST(f.service->remove(dq, dr).code == rpc::kNotFound);
    taskapi::WaitRequest wq;
    wq.set_id("nope");
    taskapi::WaitResponse wr;
    BOOST_TEST(f.service->wait(rpc::CallContext{}, wq, wr).code == rpc::kNotFound);
    taskapi::PidsRequest pq;
    pq.set_id("nope");
    taskapi::PidsResponse pr;
    BOOST_TEST(f.service->pids(pq, pr).code == rpc::kNotFound);
    taskapi::PauseRequest paq;
    paq.set_id("nope");
    BOOST_TEST(f.service->pause(paq).code == rpc::kNotFound);
    taskapi::ExecProcessRequest eq;
    eq.set_id("nope");
    eq.set_exec_id("e1");
    eq.mutable_spec()->set_value(R"({"args":["true"],"cwd":"/"})");
    BOOST_TEST(f.service->exec(eq).code == rpc::kNotFound);
    BOOST_TEST(f.sink.topics().empty());
}

BOOST_AUTO_TEST_CASE(checkpoint_is_unimplemented_with_a_reason) {
    ServiceFixture f;
    taskapi::CheckpointTaskRequest q;
    q.set_id("c1");
    auto st = f.service->checkpoint(q);
    BOOST_TEST(st.code == rpc::kUnimplemented);
    BOOST_TEST(st.message.find("not supported by runvm") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_requests_are_invalid_argument) {
    ServiceFixture f;
    taskapi::CreateTaskRequest q;
    q.set_id("../escape");
    q.set_bundle(f.dir + "/bundle");
    taskapi::CreateTaskResponse r;
    BOOST_TEST(f.service->create(q, r).code == rpc::kInvalidArgument);
    taskapi::ExecProcessRequest eq;
    eq.set_id("c1");
    eq.set_exec_id("e1");
    eq.mutable_spec()->set_value("not json");
    BOOST_TEST(f.service->exec(eq).code == rpc::kInvalidArgument);
    eq.set_exec_id("");
    BOOST_TEST(f.service->exec(eq).code == rpc::kInvalidArgument);
    taskapi::CreateTaskRequest from_checkpoint;
    from_checkpoint.set_id("c2");
    from_checkpoint.set_checkpoint("/some/where");
    BOOST_TEST(f.service->create(from_checkpoint, r).code == rpc::kUnimplemented);
}

BOOST_AUTO_TEST_CASE(failed_runvm_create_leaves_no_task_and_no_event) {
    ServiceFixture f("/bin/false");
    taskapi::CreateTaskRequest q;
    q.set_id("c1");
    q.set_bundle(f.dir + "/bundle");
    taskapi::CreateTaskResponse r;
    auto st = f.service->create(q, r);
    BOOST_TEST(!st.ok());
    BOOST_TEST(st.message.find("runvm create c1 exited with 1") != std::string::npos);
    BOOST_TEST(f.service->container_count() == 0u);
    taskapi::StateRequest sq;
    sq.set_id("c1");
    taskapi::StateResponse sr;
    BOOST_TEST(f.service->state(sq, sr).code == rpc::kNotFound);
    BOOST_TEST(f.events->flush(5s));
    BOOST_TEST(f.sink.topics().empty());
}

// A stand-in for `runvm create` (argv: --root R --log L create --bundle B --pid-file P ID):
// its "monitor" writes the record the real one leaves (exit 137, an OOM kill seen by the
// agent) and dies by SIGKILL; the shim must publish TaskOOM, then TaskExit.
BOOST_AUTO_TEST_CASE(oom_killed_init_publishes_task_oom_before_task_exit) {
    std::string fake = "/tmp/runvm-fake-runvm-" + std::to_string(::getpid());
    {
        std::ofstream out(fake);
        out << "#!/bin/sh\n"
               "mkdir -p \"$2/${10}\" || exit 1\n"
               "printf '{\"id\":\"%s\",\"bundle\":\"%s\",\"status\":\"stopped\","
               "\"exit_status\":137,\"oom_killed\":true}' \"${10}\" \"$7\" "
               "> \"$2/${10}/state.json\"\n"
               "sh -c 'sleep 0.3; kill -KILL $$' </dev/null >/dev/null 2>&1 &\n"
               "echo $! > \"$9\"\n";
    }
    ::chmod(fake.c_str(), 0755);
    ServiceFixture f(fake);
    std::filesystem::create_directories(f.dir + "/root");
    taskapi::CreateTaskRequest q;
    q.set_id("c1");
    q.set_bundle(f.dir + "/bundle");
    taskapi::CreateTaskResponse r;
    auto st = f.service->create(q, r);
    ::unlink(fake.c_str());
    BOOST_REQUIRE_MESSAGE(st.ok(), st.message);
    taskapi::WaitRequest wq;
    wq.set_id("c1");
    taskapi::WaitResponse wr;
    BOOST_TEST(f.service->wait(rpc::CallContext{}, wq, wr).ok());
    BOOST_TEST(wr.exit_status() == 137u);
    BOOST_TEST(f.events->flush(5s));
    const std::vector<std::string> expected = {"/tasks/create", "/tasks/oom", "/tasks/exit"};
    BOOST_TEST(f.sink.topics() == expected, boost::test_tools::per_element());
    ::containerd::events::TaskOOM oom;
    BOOST_REQUIRE(f.sink.envelopes().size() >= 2u);
    BOOST_TEST(f.sink.envelopes()[1].event().type_url() == "containerd.events.TaskOOM");
    BOOST_TEST(oom.ParseFromString(f.sink.envelopes()[1].event().value()));
    BOOST_TEST(oom.container_id() == "c1");
}

BOOST_AUTO_TEST_CASE(create_with_a_rootfs_mount_that_fails_reports_the_mount) {
    ServiceFixture f;
    taskapi::CreateTaskRequest q;
    q.set_id("c1");
    q.set_bundle(f.dir + "/bundle");
    auto* m = q.add_rootfs();
    m->set_type("bind");
    m->set_source(f.dir + "/does-not-exist");
    m->add_options("rbind");
    taskapi::CreateTaskResponse r;
    auto st = f.service->create(q, r);
    BOOST_TEST(!st.ok());
    BOOST_TEST(st.message.find("mount bind") != std::string::npos);
    BOOST_TEST(f.service->container_count() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_only_without_containers_and_connect_names_the_shim) {
    ServiceFixture f;
    taskapi::ShutdownRequest q;
    BOOST_TEST(f.service->shutdown(q).ok());
    BOOST_TEST(f.shutdowns.load() == 1);
    taskapi::ConnectRequest cq;
    cq.set_id("c1");
    taskapi::ConnectResponse cr;
    BOOST_TEST(f.service->connect(cq, cr).ok());
    BOOST_TEST(cr.shim_pid() == static_cast<uint32_t>(::getpid()));
    BOOST_TEST(cr.task_pid() == 0u);
}

BOOST_AUTO_TEST_CASE(rpc_registration_serves_the_task_service_name) {
    ServiceFixture f;
    rpc::Server server;
    f.service->register_with(server);
    const std::string sock = f.dir + "/shim.sock";
    BOOST_REQUIRE(server.listen_unix(sock).ok());
    BOOST_REQUIRE(server.start().ok());
    auto client = rpc::Client::connect_unix(sock, 2s);
    BOOST_REQUIRE(client.ok());
    taskapi::ConnectRequest cq;
    taskapi::ConnectResponse cr;
    BOOST_TEST(client->call("containerd.task.v2.Task", "Connect", cq, &cr).ok());
    BOOST_TEST(cr.shim_pid() == static_cast<uint32_t>(::getpid()));
    taskapi::CheckpointTaskRequest kq;
    google::protobuf::Empty e;
    BOOST_TEST(client->call("containerd.task.v2.Task", "Checkpoint", kq, &e).code ==
               rpc::kUnimplemented);
    taskapi::StateRequest sq;
    sq.set_id("x");
    taskapi::StateResponse sr;
    BOOST_TEST(client->call("containerd.task.v2.Task", "State", sq, &sr).code == rpc::kNotFound);
    server.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()
