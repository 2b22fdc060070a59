// The agent's ttRPC API end to end in host mode: a real rpc::Server and rpc::Client, busybox
// containers, stdio over per-stream Unix sockets, a private cgroup2 subtree. Root only (exit
// 77 otherwise). The fixture and helpers are shared with agent_cgroup_cases.cpp.
#define BOOST_TEST_MODULE agent_service
#include <csignal>
#include <cstdlib>
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_agent/service/proc_info.hpp"
#include "guest_agent/service/agent_test_env.hpp"
#include "rpc/unix_socket.hpp"

namespace agent_test {
Env* g_env = nullptr;

struct Setup {
    Env env;
    Setup() {
        if (::geteuid() != 0 || ::access("/bin/busybox", X_OK) != 0) {
            std::printf("SKIP: needs root and busybox\n");
            std::exit(77);
        }
        BOOST_REQUIRE(Reaper::block_sigchld().ok());
        ::signal(SIGPIPE, SIG_IGN);
        BOOST_REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
        // Everything this test mounts stays in its own mount namespace.
        BOOST_REQUIRE(::unshare(CLONE_NEWNS) == 0);
        BOOST_REQUIRE(::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) == 0);
        char tmpl[] = "/tmp/agent-service-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        env.dir = tmpl;
        // The guest run (agent_cgroup_guest) brings a rootfs made on the host.
        if (const char* rootfs = std::getenv("RUNVM_TEST_ROOTFS")) {
            env.rootfs = rootfs;
        } else {
            env.rootfs = env.dir + "/rootfs";
            const std::string mk = std::string(RUNVM_MAKE_ROOTFS) + " " + env.rootfs;
            BOOST_REQUIRE(std::system(mk.c_str()) == 0);
        }
        env.cgroup = env.dir + "/cgroup";
        ::mkdir(env.cgroup.c_str(), 0755);
        if (::mount("cgroup2", env.cgroup.c_str(), "cgroup2", 0, nullptr) < 0) {
            env.cgroup.clear();
        }
        auto reaper = Reaper::start();
        BOOST_REQUIRE(reaper.ok());
        env.reaper = std::move(reaper).value();
        AgentOptions o;
        o.stdio.vsock = false;
        o.stdio.unix_prefix = env.dir + "/vsock";
        o.state_dir = env.dir + "/state";
        o.cgroup_mount = env.cgroup;
        o.cgroup_parent = "runvm-agent-test-" + std::to_string(::getpid());
        env.cgroup_parent = o.cgroup_parent;
        o.setup_timeout = std::chrono::milliseconds(10000);
        env.service = std::make_unique<AgentService>(o, *env.reaper);
        env.server = std::make_unique<rpc::Server>();
        env.service->register_with(*env.server);
        BOOST_REQUIRE(env.server->listen_unix(env.dir + "/agent.sock").ok());
        BOOST_REQUIRE(env.server->start().ok());
        auto c =
            rpc::Client::connect_unix(env.dir + "/agent.sock", std::chrono::milliseconds(5000));
        BOOST_REQUIRE(c.ok());
        env.client = std::make_unique<rpc::Client>(std::move(c).value());
        g_env = &env;
    }
    ~Setup() {
        env.client.reset();
        env.server->shutdown();
        env.service.reset();
        if (!env.cgroup.empty()) {
            ::umount2(env.cgroup.c_str(), MNT_DETACH);
        }
        std::system(("rm -rf " + env.dir).c_str());
    }
};
BOOST_TEST_GLOBAL_FIXTURE(Setup);

Env& env() {
    return *g_env;
}

rpc::Status call(const char* method, const google::protobuf::MessageLite& req,
                 google::protobuf::MessageLite* resp) {
    rpc::CallOptions o;
    o.timeout = std::chrono::seconds(30);
    return g_env->client->call(kAgentService, method, req, resp, o);
}

StreamListener::StreamListener(uint32_t port) {
    auto l = rpc::listen_unix_socket(g_env->dir + "/vsock_" + std::to_string(port));
    BOOST_REQUIRE(l.ok());
    listen = std::move(l).value();
}

UniqueFd StreamListener::accept() const {
    UniqueFd fd(::accept4(listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
    BOOST_REQUIRE(fd.valid());
    int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

bool read_until(int fd, const std::string& needle, std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (text.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        char buf[1024];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            return false;
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return true;
}

std::string spec_json(const std::string& script) {
    nlohmann::json args = {"sh", "-c", script};
    nlohmann::json j = {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"args", args},
          {"cwd", "/"},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"env", {"PATH=/bin"}}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "svc"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}}}},
        {"linux",
         {{"namespaces",
           {{{"type", "mount"}}, {{"type", "pid"}}, {{"type", "uts"}}, {{"type", "ipc"}}}}}}};
    return j.dump();
}

pb::CreateContainerRequest create_request(const std::string& id, const std::string& script,
                                          uint32_t in, uint32_t out, uint32_t err) {
    pb::CreateContainerRequest req;
    req.set_container_id(id);
    req.set_oci_spec_json(spec_json(script));
    req.mutable_rootfs()->set_directory(g_env->rootfs);
    req.mutable_stdio()->set_stdin_port(in);
    req.mutable_stdio()->set_stdout_port(out);
    req.mutable_stdio()->set_stderr_port(err);
    return req;
}

uint32_t wait_status(const std::string& id, const std::string& exec_id) {
    pb::WaitProcessRequest w;
    w.set_container_id(id);
    w.set_exec_id(exec_id);
    pb::WaitProcessResponse r;
    auto st = call("WaitProcess", w, &r);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    return r.exit_status();
}
} // namespace agent_test

using namespace agent_test;

BOOST_AUTO_TEST_CASE(create_start_stdio_wait_remove) {
    StreamListener in(100), out(101), err(102);
    pb::CreateContainerResponse created;
    auto st = call("CreateContainer",
                   create_request("c1", "read l; echo out:$l:$(hostname); echo err >&2; exit 7",
                                  100, 101, 102),
                   &created);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    BOOST_TEST(created.pid() > 0u);
    UniqueFd i = in.accept(), o = out.accept(), e = err.accept();
    // Created, not started: the init waits; its command line is still the agent's.
    std::ifstream cmdline("/proc/" + std::to_string(created.pid()) + "/cmdline");
    std::string cmd;
    std::getline(cmdline, cmd, '\0');
    BOOST_TEST(cmd.find("sh") == std::string::npos);
    pb::StartContainerRequest start;
    start.set_container_id("c1");
    pb::StartContainerResponse started;
    st = call("StartContainer", start, &started);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    BOOST_REQUIRE(::write(i.get(), "hello\n", 6) == 6);
    BOOST_TEST(read_all(o.get()) == "out:hello:svc\n");
    BOOST_TEST(read_all(e.get()) == "err\n");
    BOOST_TEST(wait_status("c1", "") == 7u);
    BOOST_TEST(call("StartContainer", start, &started).code == rpc::kFailedPrecondition);
    pb::RemoveContainerRequest rm;
    rm.set_container_id("c1");
    BOOST_TEST(call("RemoveContainer", rm, nullptr).ok());
    BOOST_TEST(call("RemoveContainer", rm, nullptr).code == rpc::kNotFound);
}

// Without a terminal the process's stdio are pipes, as runc gives them (not the stream
// sockets): its closed stdout ends the host's stream while it still runs, the host closing
// its stdin stream is EOF, and so is CloseStdin (here for an exec).
BOOST_AUTO_TEST_CASE(stdio_pipes_and_eof) {
    StreamListener in(110), out(111), err(112), exec_in(113), exec_out(114);
    const std::string script = "for f in 0 1 2; do l=$(readlink /proc/$$/fd/$f); echo ${l%%:*}; "
                               "done; read a; echo in:$a; exec >&-; cat >&2; echo eof >&2; "
                               "exec sleep 100 2>&-";
    auto st = call("CreateContainer", create_request("c5", script, 110, 111, 112), nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd i = in.accept(), o = out.accept(), e = err.accept();
    pb::StartContainerRequest start;
    start.set_container_id("c5");
    BOOST_REQUIRE(call("StartContainer", start, nullptr).ok());
    BOOST_REQUIRE(::write(i.get(), "one\n", 4) == 4);
    BOOST_TEST(read_all(o.get()) == "pipe\npipe\npipe\nin:one\n");
    BOOST_REQUIRE(::write(i.get(), "two\n", 4) == 4);
    std::string text;
    BOOST_TEST(read_until(e.get(), "two\n", text), text);
    i.reset();
    BOOST_TEST(read_all(e.get()) == "eof\n");

    pb::ExecProcessRequest ex;
    ex.set_container_id("c5");
    ex.set_exec_id("p1");
    ex.set_process_json(R"({"args":["sh","-c","cat; echo eof; exit 4"],"cwd":"/",
        "env":["PATH=/bin"],"user":{"uid":0,"gid":0}})");
    ex.mutable_stdio()->set_stdin_port(113);
    ex.mutable_stdio()->set_stdout_port(114);
    st = call("ExecProcess", ex, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd ei = exec_in.accept(), eo = exec_out.accept();
    BOOST_REQUIRE(::write(ei.get(), "x\n", 2) == 2);
    std::string exec_text;
    BOOST_TEST(read_until(eo.get(), "x\n", exec_text), exec_text);
    pb::CloseStdinRequest close;
    close.set_container_id("c5");
    close.set_exec_id("p1");
    BOOST_REQUIRE(call("CloseStdin", close, nullptr).ok());
    BOOST_TEST(read_all(eo.get()) == "eof\n");
    BOOST_TEST(wait_status("c5", "p1") == 4u);

    pb::RemoveContainerRequest rm;
    rm.set_container_id("c5");
    rm.set_force(true);
    BOOST_TEST(call("RemoveContainer", rm, nullptr).ok());
}

BOOST_AUTO_TEST_CASE(exec_signal_pause_stats) {
    StreamListener out(201), exec_out(202);
    pb::CreateContainerResponse created;
    auto st = call("CreateContainer", create_request("c2", "echo up; exec sleep 100", 0, 201, 0),
                   &created);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd o = out.accept();
    pb::StartContainerRequest start;
    start.set_container_id("c2");
    BOOST_REQUIRE(call("StartContainer", start, nullptr).ok());
    char buf[8] = {};
    BOOST_REQUIRE(::read(o.get(), buf, 3) == 3);

    pb::ExecProcessRequest ex;
    ex.set_container_id("c2");
    ex.set_exec_id("e1");
    ex.set_process_json(R"({"args":["sh","-c","echo exec:$(hostname):$$"],"cwd":"/tmp",
        "env":["PATH=/bin"],"user":{"uid":0,"gid":0}})");
    ex.mutable_stdio()->set_stdout_port(202);
    st = call("ExecProcess", ex, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd eo = exec_out.accept();
    const std::string line = read_all(eo.get());
    BOOST_TEST(line.rfind("exec:svc:", 0) == 0u); // the container's UTS namespace
    BOOST_TEST(line != "exec:svc:1\n");           // and its pid namespace, not pid 1
    BOOST_TEST(wait_status("c2", "e1") == 0u);

    pb::ListProcessesRequest lp;
    lp.set_container_id("c2");
    pb::ListProcessesResponse procs;
    BOOST_REQUIRE(call("ListProcesses", lp, &procs).ok());
    BOOST_TEST(procs.processes_size() >= 1);
    for (const auto& p : procs.processes()) { // ps -ef's columns, read from /proc
        BOOST_TEST(!p.comm().empty());
        BOOST_TEST(p.ppid() != 0u);
        BOOST_TEST(p.state().size() == 1u);
    }

    if (!g_env->cgroup.empty()) {
        pb::PauseContainerRequest pause;
        pause.set_container_id("c2");
        st = call("PauseContainer", pause, nullptr);
        BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
        std::ifstream status("/proc/" + std::to_string(created.pid()) + "/status");
        std::string text((std::istreambuf_iterator<char>(status)), {});
        BOOST_TEST(text.find("State:\tS") != std::string::npos); // frozen tasks sleep
        pb::ResumeContainerRequest resume;
        resume.set_container_id("c2");
        BOOST_REQUIRE(call("ResumeContainer", resume, nullptr).ok());
        pb::StatsContainerRequest sreq;
        sreq.set_container_id("c2");
        pb::StatsContainerResponse stats;
        BOOST_REQUIRE(call("StatsContainer", sreq, &stats).ok());
        BOOST_TEST(stats.cpu_usage_usec() > 0u);
        BOOST_TEST(stats.vm_memory_bytes() > 0u); // MemTotal
    }
    pb::SignalProcessRequest sig;
    sig.set_container_id("c2");
    sig.set_signal(SIGKILL);
    BOOST_REQUIRE(call("SignalProcess", sig, nullptr).ok());
    BOOST_TEST(wait_status("c2", "") == 137u);
    pb::RemoveContainerRequest rm;
    rm.set_container_id("c2");
    BOOST_TEST(call("RemoveContainer", rm, nullptr).ok());
}

BOOST_AUTO_TEST_CASE(bad_requests_leave_nothing) {
    auto req = create_request("c3", "true", 0, 0, 0);
    nlohmann::json j = nlohmann::json::parse(req.oci_spec_json());
    j["process"]["args"] = {"no-such-binary"};
    req.set_oci_spec_json(j.dump());
    auto st = call("CreateContainer", req, nullptr);
    BOOST_TEST(st.code == rpc::kFailedPrecondition);
    BOOST_TEST(st.message.find("exec: \"no-such-binary\": executable file not found in $PATH") !=
               std::string::npos);
    pb::ListProcessesRequest lp;
    lp.set_container_id("c3");
    BOOST_TEST(call("ListProcesses", lp, nullptr).code == rpc::kNotFound);

    j["process"]["args"] = {"true"};
    j["linux"]["namespaces"].push_back({{"type", "bogus"}});
    req.set_oci_spec_json(j.dump());
    st = call("CreateContainer", req, nullptr);
    BOOST_TEST(st.code == rpc::kInvalidArgument);
    BOOST_TEST(st.message.find("linux.namespaces[4].type") != std::string::npos);

    pb::HealthResponse h;
    BOOST_REQUIRE(call("Health", pb::HealthRequest(), &h).ok());
    BOOST_TEST(h.status() == pb::HealthResponse::SERVING);
    pb::VersionResponse v;
    BOOST_REQUIRE(call("Version", pb::VersionRequest(), &v).ok());
    BOOST_TEST(v.api_version() == kAgentApiVersion);
}

// Reinit over the wire: bad fields answer InvalidArgument naming them; a good request is
// refused in host mode (it would reseed, re-clock and rename the host), and is harmless if
// it were not (no clock, the host's own name).
BOOST_AUTO_TEST_CASE(reinit_checks_over_ttrpc) {
    char host[65] = {};
    BOOST_REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    pb::ReinitRequest req;
    req.set_host_random(std::string(16, 'r'));
    req.set_hostname(host);
    auto st = call("Reinit", req, nullptr);
    BOOST_TEST(st.code == rpc::kInvalidArgument);
    BOOST_TEST(st.message.find("Reinit: host_random: 16 bytes") != std::string::npos, st.message);
    req.set_host_random(std::string(32, 'r'));
    req.set_hostname(std::string(65, 'h'));
    st = call("Reinit", req, nullptr);
    BOOST_TEST(st.code == rpc::kInvalidArgument);
    BOOST_TEST(st.message.find("Reinit: hostname: 65 bytes") != std::string::npos, st.message);
    req.set_hostname(host);
    st = call("Reinit", req, nullptr);
    BOOST_TEST(st.code == rpc::kFailedPrecondition);
    BOOST_TEST(st.message == "Reinit: only as the guest's PID 1");
}

BOOST_AUTO_TEST_CASE(terminal_resize_input_and_exec) {
    StreamListener tty(301), exec_tty(302);
    auto req =
        create_request("c4", "stty size; tty; read x; echo got:$x; exec sleep 100", 0, 301, 0);
    nlohmann::json j = nlohmann::json::parse(req.oci_spec_json());
    j["process"]["terminal"] = true;
    j["mounts"].push_back({{"destination", "/dev/pts"},
                           {"type", "devpts"},
                           {"source", "devpts"},
                           {"options", {"newinstance", "ptmxmode=0666", "mode=0620"}}});
    req.set_oci_spec_json(j.dump());
    req.mutable_stdio()->set_terminal(true);
    pb::CreateContainerResponse created;
    auto st = call("CreateContainer", req, &created);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd t = tty.accept();
    // Resized before start: the first `stty size` must already see it.
    pb::ResizeTtyRequest resize;
    resize.set_container_id("c4");
    resize.set_width(123);
    resize.set_height(45);
    st = call("ResizeTty", resize, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    pb::StartContainerRequest start;
    start.set_container_id("c4");
    BOOST_REQUIRE(call("StartContainer", start, nullptr).ok());
    std::string text;
    BOOST_TEST_REQUIRE(read_until(t.get(), "/dev/pts/", text), text);
    BOOST_TEST(text.find("45 123") != std::string::npos, text);
    // Input on the one stream reaches the process through the pty (which echoes it too).
    BOOST_REQUIRE(::write(t.get(), "hello\n", 6) == 6);
    BOOST_TEST(read_until(t.get(), "got:hello", text), text);

    pb::ExecProcessRequest ex;
    ex.set_container_id("c4");
    ex.set_exec_id("t1");
    // Resized after it started: it polls `stty size` (10 s at most) until it sees 24x80.
    const std::string wait_for_size = "i=0; while [ \"$(stty size)\" != \"24 80\" ] && "
                                      "[ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
                                      "echo size:$(stty size); tty; exit 3";
    ex.set_process_json(nlohmann::json{{"args", {"sh", "-c", wait_for_size}},
                                       {"cwd", "/"},
                                       {"terminal", true},
                                       {"env", {"PATH=/bin"}},
                                       {"user", {{"uid", 0}, {"gid", 0}}}}
                            .dump());
    ex.mutable_stdio()->set_stdout_port(302);
    ex.mutable_stdio()->set_terminal(true);
    st = call("ExecProcess", ex, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd et = exec_tty.accept();
    resize.set_exec_id("t1");
    resize.set_width(80);
    resize.set_height(24);
    st = call("ResizeTty", resize, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    std::string exec_text;
    BOOST_TEST(read_until(et.get(), "size:24 80", exec_text), exec_text);
    BOOST_TEST(read_until(et.get(), "/dev/pts/", exec_text), exec_text);
    BOOST_TEST(wait_status("c4", "t1") == 3u);
    // ResizeTty of an unknown container is NotFound.
    resize.set_exec_id("");
    resize.set_container_id("c2-none");
    BOOST_TEST(call("ResizeTty", resize, nullptr).code == rpc::kNotFound);

    pb::SignalProcessRequest sig;
    sig.set_container_id("c4");
    sig.set_signal(SIGKILL);
    BOOST_REQUIRE(call("SignalProcess", sig, nullptr).ok());
    BOOST_TEST(wait_status("c4", "") == 137u);
    pb::RemoveContainerRequest rm;
    rm.set_container_id("c4");
    BOOST_TEST(call("RemoveContainer", rm, nullptr).ok());
}

BOOST_AUTO_TEST_CASE(proc_stat_and_passwd_parsing) {
    // comm holds a space and parentheses: the last ')' ends it.
    const auto st = runvm::agent::parse_proc_stat(
        "12 (a (b) c) S 7 12 12 34816 12 4194560 1 2 3 4 50 60 0 0 20 -5 1 0 777 0 0\n");
    BOOST_REQUIRE(st.has_value());
    BOOST_TEST(st->comm == "a (b) c");
    BOOST_TEST(st->state == 'S');
    BOOST_TEST(st->ppid == 7u);
    BOOST_TEST(st->tty_nr == 34816u);
    BOOST_TEST(st->utime == 50u);
    BOOST_TEST(st->stime == 60u);
    BOOST_TEST(st->starttime == 777u);
    BOOST_TEST(!runvm::agent::parse_proc_stat("12 (sh S 1 2").has_value());
    BOOST_TEST(!runvm::agent::parse_proc_stat("12 (sh) S 1 2 3").has_value());
    const char* passwd = "root:x:0:0:root:/:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
    BOOST_TEST(runvm::agent::passwd_name(passwd, 1000).value_or("") == "bob");
    BOOST_TEST(!runvm::agent::passwd_name(passwd, 5).has_value());
    // /proc/self: this test's own process.
    runvm::agent::v1::ProcessEntry e;
    BOOST_REQUIRE(runvm::agent::read_proc_entry(::getpid(), e));
    BOOST_TEST(e.ppid() == static_cast<uint32_t>(::getppid()));
    BOOST_TEST(e.args_size() >= 1);
}
