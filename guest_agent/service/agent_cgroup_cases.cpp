// cgroup v2 through the agent API: Pause/Resume against a counter, and (where the cgroup2
// hierarchy has the memory, pids and cpu controllers: a guest kernel, a pure-v2 host) limits
// a process feels, StatsContainer figures and UpdateContainer. agent_cgroup_guest runs these
// in a QEMU guest with RUNVM_REQUIRE_CONTROLLERS=1, where a missing controller is a failure.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <poll.h>

#include "guest_agent/service/agent_test_env.hpp"

using namespace agent_test;
namespace utf = boost::unit_test;

namespace {
std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
}

std::string container_cgroup(const std::string& id) {
    return env().cgroup + "/" + env().cgroup_parent + "/runvm/" + id;
}

boost::test_tools::assertion_result has_cgroup2(utf::test_unit_id) {
    return !env().cgroup.empty();
}

boost::test_tools::assertion_result has_controllers(utf::test_unit_id) {
    if (std::getenv("RUNVM_REQUIRE_CONTROLLERS") != nullptr) {
        return true; // the guest run: the case must run (and fail if they are missing)
    }
    std::istringstream names(read_file(env().cgroup + "/cgroup.controllers"));
    std::string name;
    int found = 0;
    while (names >> name) {
        found += name == "memory" || name == "pids" || name == "cpu";
    }
    boost::test_tools::assertion_result r(found == 3);
    r.message() << "cgroup2 here lacks memory/pids/cpu (a v1 or hybrid host): "
                   "agent_cgroup_guest proves this case in a guest";
    return r;
}

// Lines that arrive on `fd` within `quiet`: the output a paused process must not make.
std::string drain(int fd, std::chrono::milliseconds quiet) {
    std::string text;
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(quiet.count())) > 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

uint64_t last_number(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    uint64_t last = 0;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) {
            last = std::stoull(line);
        }
    }
    return last;
}

void kill_and_remove(const std::string& id) {
    pb::SignalProcessRequest sig;
    sig.set_container_id(id);
    sig.set_signal(SIGKILL);
    BOOST_REQUIRE(call("SignalProcess", sig, nullptr).ok());
    BOOST_TEST(wait_status(id, "") == 137u);
    pb::RemoveContainerRequest rm;
    rm.set_container_id(id);
    BOOST_TEST(call("RemoveContainer", rm, nullptr).ok());
}
} // namespace

BOOST_AUTO_TEST_CASE(pause_stops_a_counter_resume_continues_it, *utf::precondition(has_cgroup2)) {
    StreamListener out(401);
    auto st = call("CreateContainer",
                   create_request("cnt", "i=0; while :; do i=$((i+1)); echo $i; done", 0, 401, 0),
                   nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd o = out.accept();
    pb::StartContainerRequest start;
    start.set_container_id("cnt");
    BOOST_REQUIRE(call("StartContainer", start, nullptr).ok());
    std::string text;
    BOOST_REQUIRE(read_until(o.get(), "\n50\n", text));

    pb::PauseContainerRequest pause;
    pause.set_container_id("cnt");
    st = call("PauseContainer", pause, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    BOOST_TEST(read_file(container_cgroup("cnt") + "/cgroup.freeze") == "1");
    // What was written before the freeze is still in the socket; then nothing may come.
    const uint64_t at_pause = last_number(text + drain(o.get(), std::chrono::milliseconds(300)));
    BOOST_TEST(drain(o.get(), std::chrono::milliseconds(700)).empty());

    pb::ResumeContainerRequest resume;
    resume.set_container_id("cnt");
    BOOST_REQUIRE(call("ResumeContainer", resume, nullptr).ok());
    std::string after;
    BOOST_REQUIRE(read_until(o.get(), "\n" + std::to_string(at_pause + 20) + "\n", after));
    // The same process carries on from where it stopped (not a restart from 1).
    BOOST_TEST(after.rfind(std::to_string(at_pause + 1) + "\n", 0) == 0u, after.substr(0, 40));
    kill_and_remove("cnt");
}

BOOST_AUTO_TEST_CASE(limits_stats_and_update,
                     *utf::precondition(has_cgroup2) * utf::precondition(has_controllers)) {
    StreamListener out(411), fork_err(412), fork_err2(413);
    auto req = create_request("lim", "echo up; exec sleep 1000", 0, 411, 0);
    nlohmann::json j = nlohmann::json::parse(req.oci_spec_json());
    j["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}},
                               {"cpu", {{"quota", 50000}, {"period", 100000}, {"shares", 512}}},
                               {"pids", {{"limit", 8}}}};
    req.set_oci_spec_json(j.dump());
    auto st = call("CreateContainer", req, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd o = out.accept();
    pb::StartContainerRequest start;
    start.set_container_id("lim");
    BOOST_REQUIRE(call("StartContainer", start, nullptr).ok());
    std::string text;
    BOOST_REQUIRE(read_until(o.get(), "up\n", text));

    const std::string dir = container_cgroup("lim");
    BOOST_TEST(read_file(dir + "/memory.max") == std::to_string(64 << 20));
    BOOST_TEST(read_file(dir + "/pids.max") == "8");
    BOOST_TEST(read_file(dir + "/cpu.max") == "50000 100000");
    BOOST_TEST(read_file(dir + "/cpu.weight") == "20"); // runc: 1 + (512-2)*9999/262142

    // Twelve background sleeps from an exec'd shell: the cgroup holds 8 tasks at most.
    const std::string forks =
        nlohmann::json{{"args",
                        {"sh", "-c",
                         "i=0; while [ $i -lt 12 ]; do sleep 30 & i=$((i+1)); done; "
                         "echo forked:$i"}},
                       {"cwd", "/"},
                       {"env", {"PATH=/bin"}},
                       {"user", {{"uid", 0}, {"gid", 0}}}}
            .dump();
    pb::ExecProcessRequest ex;
    ex.set_container_id("lim");
    ex.set_exec_id("fork1");
    ex.set_process_json(forks);
    ex.mutable_stdio()->set_stderr_port(412);
    st = call("ExecProcess", ex, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd e1 = fork_err.accept();
    BOOST_TEST(wait_status("lim", "fork1") != 0u);
    std::string err1 = read_all(e1.get());
    BOOST_TEST(err1.find("can't fork") != std::string::npos, err1);

    pb::StatsContainerRequest sreq;
    sreq.set_container_id("lim");
    pb::StatsContainerResponse stats;
    st = call("StatsContainer", sreq, &stats);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    BOOST_TEST(stats.memory_current_bytes() > 0u);
    BOOST_TEST(stats.memory_limit_bytes() == uint64_t{64} << 20);
    BOOST_TEST(stats.pids_current() >= 2u); // the init and the sleeps that did start
    BOOST_TEST(stats.pids_current() <= 8u);
    BOOST_TEST(stats.cpu_usage_usec() > 0u);

    pb::UpdateContainerRequest up;
    up.set_container_id("lim");
    up.set_resources_json(R"({"pids":{"limit":64}})");
    st = call("UpdateContainer", up, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    BOOST_TEST(read_file(dir + "/pids.max") == "64");
    ex.set_exec_id("fork2");
    ex.mutable_stdio()->set_stderr_port(0);
    ex.mutable_stdio()->set_stdout_port(413);
    st = call("ExecProcess", ex, nullptr);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.str());
    UniqueFd o2 = fork_err2.accept();
    BOOST_TEST(wait_status("lim", "fork2") == 0u);
    std::string out2;
    BOOST_TEST(read_until(o2.get(), "forked:12", out2), out2);
    kill_and_remove("lim");
}
