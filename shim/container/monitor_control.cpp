// The monitor's control verbs: start, kill, exec, state, ps, stats, pause, resume, update,
// delete. Each request is one JSON line; exec also carries the caller's stdio fds.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "oci/hooks_runner.hpp"
#include "shim/container/client_hangup_watch.hpp"
#include "shim/container/monitor_state.hpp"
#include "shim/container/vm_resources.hpp"
#include "shim/sandbox/stdio_bridge.hpp"

namespace runvm::shim {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json error_reply(const Error& e) {
    return {{"error", e.str()}};
}

// The container a request names: this monitor's own, or a member of its pod.
struct Target {
    std::string id;
    ContainerRecord* record = nullptr; // guarded by s.mu
    bool* start_requested = nullptr;
    bool* delete_requested = nullptr;
    std::shared_ptr<PodMember> member; // held for the call
    bool own = true;
};

Result<Target> resolve_target(MonitorState& s, const json& req) {
    const std::string name = req.value("container", std::string());
    if (name.empty() || name == s.record.id) {
        return Target{s.record.id,         &s.record, &s.start_requested,
                      &s.delete_requested, nullptr,   true};
    }
    std::lock_guard lock(s.mu);
    auto it = s.members.find(name);
    if (it == s.members.end()) {
        return Err(
            Error::with_errno(ESRCH, "container " + name + " is not in the pod of " + s.record.id));
    }
    auto m = it->second;
    return Target{name, &m->record, &m->start_requested, &m->delete_requested, m, false};
}

std::string status_of(MonitorState& s, const Target& t) {
    std::lock_guard lock(s.mu);
    return t.record->status;
}

Result<json> do_start(MonitorState& s, const Target& t) {
    std::string hook_state;
    std::optional<std::vector<oci::Hook>> poststart;
    {
        std::lock_guard lock(s.mu);
        if (t.record->status != "created") {
            return Err(Error::msg("cannot start a container in status " + t.record->status));
        }
    }
    RUNVM_ASSIGN_OR_RETURN(uint32_t pid, s.sandbox->agent().start_container(t.id));
    {
        std::lock_guard lock(s.mu);
        t.record->status = "running";
        if (t.own) {
            s.sandbox->timeline().mark("container started");
            s.record.timeline = s.sandbox->timeline().to_json();
            s.save_locked();
            hook_state = s.hook_state_locked();
        } else {
            if (t.member->timeline) {
                t.member->timeline->mark("container started");
                t.record->timeline = t.member->timeline->to_json();
            }
            if (auto r = s.store.save(*t.record); !r) {
                spdlog::warn("save state of {}: {}", t.id, r.error().str());
            }
            if (t.member->poststart) {
                poststart = t.member->poststart;
                hook_state = oci_hook_state(*t.record, t.member->oci_version);
            }
        }
        *t.start_requested = true;
    }
    s.cv.notify_all();
    if (t.own) {
        poststart = s.spec.hooks ? s.spec.hooks->poststart : std::nullopt;
    }
    // runtime-spec: a failing poststart hook is logged and the lifecycle goes on.
    if (auto r = oci::run_hooks(poststart, "poststart", hook_state); !r) {
        spdlog::warn("{}", r.error().str());
    }
    return json{{"guest_pid", pid}};
}

Result<json> do_kill(MonitorState& s, const Target& t, const json& req) {
    const std::string st = status_of(s, t);
    if (st == "stopped" || st == "creating") {
        return Err(Error::with_errno(ESRCH, "container " + t.id + " is not running"));
    }
    const uint32_t sig = req.value("signal", 15u);
    // An exec is named by the agent's exec id (the exec reply's "exec_id"); none: the init.
    RUNVM_TRY(s.sandbox->agent().signal(t.id, req.value("exec_id", std::string()), sig,
                                        req.value("all", false)));
    return json::object();
}

} // namespace

// Runs one exec to its end, replying {"pid"} when it started and {"exit_status"} at exit.
void serve_exec(MonitorState& s, ControlChannel& ch, const json& req, std::vector<UniqueFd> fds) {
    auto target = resolve_target(s, req);
    if (!target) {
        (void)ch.send(error_reply(target.error()));
        return;
    }
    const Target& t = *target;
    if (status_of(s, t) != "running") {
        (void)ch.send(error_reply(Error::msg("cannot exec in a container that is not running")));
        return;
    }
    const bool tty = req.value("tty", false);
    const auto want = req.value("stdio", std::vector<bool>{});
    StdioFds io;
    size_t next = 0;
    UniqueFd* slots[3] = {&io.in, &io.out, &io.err};
    for (size_t i = 0; i < 3 && i < want.size(); ++i) {
        if (want[i] && next < fds.size()) {
            *slots[i] = std::move(fds[next++]);
        }
    }
    if (tty && io.in && !io.out) {
        io.out = UniqueFd(::dup(io.in.get()));
    }
    const uint32_t port = s.next_port.fetch_add(4);
    auto bridge = StdioBridge::open(s.sandbox->vsock_uds(), port, std::move(io), tty);
    if (!bridge) {
        (void)ch.send(error_reply(bridge.error()));
        return;
    }
    const std::string exec_id = "exec-" + std::to_string(s.next_exec.fetch_add(1));
    agent::v1::ExecProcessRequest er;
    er.set_container_id(t.id);
    er.set_exec_id(exec_id);
    er.set_process_json(req.value("process", json::object()).dump());
    set_stdio_ports(er.mutable_stdio(), (*bridge)->ports(), tty);
    auto pid = s.sandbox->agent().exec_process(er);
    if (!pid) {
        (void)ch.send(error_reply(pid.error()));
        return;
    }
    if (!ch.send({{"pid", *pid}, {"exec_id", exec_id}})) {
        (void)s.sandbox->agent().signal(t.id, exec_id, SIGKILL, false);
        return;
    }
    // The client stands for the process (its pid is the one containerd's runc shim kills):
    // once it is gone, by SIGKILL too, the process goes with it.
    auto waited = [&] {
        ClientHangupWatch watch(ch.fd(), [&] {
            if (auto r = s.sandbox->agent().signal(t.id, exec_id, SIGKILL, false); !r) {
                spdlog::debug("exec {}: client gone, kill: {}", exec_id, r.error().str());
            }
        });
        return s.sandbox->agent().wait_process(t.id, exec_id);
    }();
    if (!waited) {
        (void)ch.send(error_reply(waited.error()));
        return;
    }
    (*bridge)->wait_output_done(2s);
    (void)ch.send({{"exit_status", waited->exit_status()}});
}

namespace {

Result<json> do_delete(MonitorState& s, const Target& t, const json& req) {
    const std::string st = status_of(s, t);
    const bool force = req.value("force", false);
    if ((st == "running" || st == "paused") && !force) {
        return Err(Error::msg("cannot delete container " + t.id + " that is not stopped: " + st +
                              " (use --force)"));
    }
    if (st == "running" || st == "paused") {
        auto r = s.sandbox->agent().signal(t.id, "", SIGKILL, true);
        if (!r) {
            spdlog::debug("delete --force: {}", r.error().str());
        }
    }
    {
        std::lock_guard lock(s.mu);
        *t.delete_requested = true;
    }
    s.cv.notify_all();
    return json::object();
}

// The host processes below `root` (the monitor's broker and hypervisor), from /proc/*/stat.
std::vector<int> host_descendants(int root) {
    std::map<int, std::vector<int>> children;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const auto pid = parse_u64(entry.path().filename().string());
        if (!pid) {
            continue;
        }
        const auto stat = read_file(entry.path().string() + "/stat");
        const size_t close = stat ? stat->rfind(')') : std::string::npos;
        if (close == std::string::npos) {
            continue; // gone meanwhile
        }
        const auto f = words(std::string_view(*stat).substr(close + 1));
        if (f.size() > 1) {
            if (auto ppid = parse_u64(f[1])) {
                children[static_cast<int>(*ppid)].push_back(static_cast<int>(*pid));
            }
        }
    }
    std::vector<int> out;
    std::vector<int> todo{root};
    while (!todo.empty()) {
        const int p = todo.back();
        todo.pop_back();
        for (int c : children[p]) {
            out.push_back(c);
            todo.push_back(c);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The guest's processes (ps -ef's columns) and "host_pids": the host processes that stand
// for the container, what runc's `ps --format json` lists (its cgroup's pids) and what
// `docker top` looks up in the host's ps: the pid-file process (the monitor, or a pod
// member's stand-in) and, for the VM's own container (or a pooled VM's first), the monitor's
// children (broker and hypervisor). Guest pids mean nothing on the host, so they are not
// among them.
Result<json> do_ps(MonitorState& s, const Target& t) {
    RUNVM_ASSIGN_OR_RETURN(auto list, s.sandbox->agent().list_processes(t.id));
    json procs = json::array();
    for (const auto& p : list.processes()) {
        procs.push_back({{"pid", p.pid()},
                         {"exec_id", p.exec_id()},
                         {"ppid", p.ppid()},
                         {"uid", p.uid()},
                         {"user", p.user()},
                         {"args", std::vector<std::string>(p.args().begin(), p.args().end())},
                         {"comm", p.comm()},
                         {"tty_nr", p.tty_nr()},
                         {"age_ms", p.age_ms()},
                         {"cpu_time_ms", p.cpu_time_ms()},
                         {"state", p.state()}});
    }
    json host = json::array();
    int stand_in = 0;
    bool owns_vm = t.own;
    {
        std::lock_guard lock(s.mu);
        stand_in = t.record->monitor_pid;
        owns_vm = owns_vm || (t.member && t.member->owns_vm);
    }
    if (stand_in > 0) {
        host.push_back(stand_in);
    }
    if (owns_vm) {
        for (int pid : host_descendants(::getpid())) {
            host.push_back(pid);
        }
    }
    return json{{"processes", procs}, {"host_pids", host}};
}

Result<json> handle(MonitorState& s, const json& req) {
    const std::string op = req.value("op", "");
    auto& agent = s.sandbox->agent();
    RUNVM_ASSIGN_OR_RETURN(const Target t, resolve_target(s, req));
    const std::string& id = t.id;
    if (op == "state") {
        std::lock_guard lock(s.mu);
        return t.record->to_json();
    }
    if (op == "start") {
        return do_start(s, t);
    }
    if (op == "kill") {
        return do_kill(s, t, req);
    }
    if (op == "delete") {
        return do_delete(s, t, req);
    }
    if (op == "ps") {
        return do_ps(s, t);
    }
    if (op == "stats") {
        RUNVM_ASSIGN_OR_RETURN(auto st, agent.stats(id));
        // The VM's memory caps the container as much as memory.max does.
        uint64_t limit = st.memory_limit_bytes();
        if (st.vm_memory_bytes() != 0 && (limit == 0 || limit > st.vm_memory_bytes())) {
            limit = st.vm_memory_bytes();
        }
        return json{{"cpu_usage_usec", st.cpu_usage_usec()},
                    {"cpu_user_usec", st.cpu_user_usec()},
                    {"cpu_system_usec", st.cpu_system_usec()},
                    {"memory_current_bytes", st.memory_current_bytes()},
                    {"memory_limit_bytes", limit},
                    {"memory_max_bytes", st.memory_limit_bytes()},
                    {"vm_memory_bytes", st.vm_memory_bytes()},
                    {"pids_current", st.pids_current()},
                    {"pids_limit", st.pids_limit()},
                    {"io_read_bytes", st.io_read_bytes()},
                    {"io_write_bytes", st.io_write_bytes()}};
    }
    if (op == "pause" || op == "resume") {
        const bool pause = op == "pause";
        const std::string want = pause ? "running" : "paused";
        if (const std::string st = status_of(s, t); st != want) {
            return Err(Error::msg("cannot " + op + " container " + id + " in status " + st));
        }
        RUNVM_TRY(pause ? agent.pause(id) : agent.resume(id));
        std::lock_guard lock(s.mu);
        t.record->status = pause ? "paused" : "running";
        if (auto r = s.store.save(*t.record); !r) {
            spdlog::warn("save state of {}: {}", id, r.error().str());
        }
        return json::object();
    }
    if (op == "update") {
        RUNVM_TRY(update_resources(s, id, req.value("resources", json::object())));
        return json::object();
    }
    return Err(Error::with_errno(EINVAL, "unknown control op '" + op + "'"));
}

} // namespace

void serve_control_connection(MonitorState& state, ControlChannel channel) {
    auto msg = channel.receive(10s);
    if (!msg) {
        spdlog::debug("control: {}", msg.error().str());
        return;
    }
    if (msg->body.value("op", "") == "exec") {
        serve_exec(state, channel, msg->body, std::move(msg->fds));
        return;
    }
    if (msg->body.value("op", "") == "add_container") {
        serve_add_container(state, channel, std::move(*msg));
        return;
    }
    auto reply = handle(state, msg->body);
    (void)channel.send(reply ? *reply : error_reply(reply.error()));
}

} // namespace runvm::shim
