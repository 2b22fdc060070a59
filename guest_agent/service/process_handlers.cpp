// Process handlers (exec, signal, wait, tty, stdin, list) and the cgroup ones (stats,
// update, pause, resume).
#include <csignal>
#include <thread>

#include <sys/socket.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "guest_agent/launcher/terminal.hpp"
#include "guest_agent/service/agent_service.hpp"
#include "guest_agent/service/proc_info.hpp"
#include "guest_agent/service/request_checks.hpp"
#include "guest_agent/service/status_map.hpp"

namespace runvm::agent {

namespace {
using Status = rpc::Status;

Status not_found(const std::string& what) {
    return Status{rpc::kNotFound, what};
}

Status no_cgroup(const std::string& id) {
    return Status{rpc::kFailedPrecondition, "container " + id + ": no cgroup v2 in this agent"};
}

uint64_t read_first_number(const std::string& path) {
    const auto w = words(read_file(path).value_or(std::string()));
    return w.empty() ? 0 : parse_u64(w[0]).value_or(0);
}

// /proc/meminfo's "MemTotal:   N kB"; 0 when unreadable.
uint64_t mem_total_bytes() {
    const auto text = read_file("/proc/meminfo").value_or(std::string());
    for (const auto line : split(text, '\n')) {
        const auto w = words(line);
        if (w.size() >= 2 && w[0] == "MemTotal:") {
            return parse_u64(w[1]).value_or(0) * 1024;
        }
    }
    return 0;
}

// memory.events' oom_kill counter (hierarchical: the container's whole tree); 0 when the
// file is missing or unreadable (no memory controller).
uint64_t oom_kill_count(const std::string& cgroup_dir) {
    auto text = read_file(cgroup_dir + "/memory.events");
    if (!text) {
        return 0;
    }
    const auto keyed = parse_keyed(*text);
    const auto it = keyed.find("oom_kill");
    return it == keyed.end() ? 0 : it->second;
}

// Linux 6.1 counts MEMCG_OOM_KILL right after sending SIGKILL; with the victim on another
// vCPU its exit can be reaped first, so a SIGKILL exit gets one short second look.
bool container_oom_killed(const ContainerState& c, int shell_status) {
    if (!c.cgroup) {
        return false;
    }
    if (oom_kill_count(c.cgroup->path()) > 0) {
        return true;
    }
    if (shell_status != 128 + SIGKILL) {
        return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return oom_kill_count(c.cgroup->path()) > 0;
}
} // namespace

Status AgentService::exec_process(const Ctx&, const pb::ExecProcessRequest& req,
                                  pb::ExecProcessResponse& resp) {
    auto process = check_exec(req);
    if (!process.ok()) {
        return to_status(process.error(), "ExecProcess");
    }
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    if (c->status() != ContainerStatus::running) {
        return Status{rpc::kFailedPrecondition, "container " + c->id + " is not running"};
    }
    auto pplan = plan_process(*process, c->spec.linux);
    if (!pplan.ok()) {
        return to_status(pplan.error(), "ExecProcess");
    }
    ExecPlan plan;
    plan.init_pid = c->init->pid;
    plan.cgroup_dir = c->cgroup ? c->cgroup->path() : "";
    plan.process = std::move(pplan).value();
    plan.process.terminal = req.stdio().terminal();
    auto streams = open_process_streams(options_.stdio, req.stdio(), options_.setup_timeout);
    if (!streams.ok()) {
        return to_status(streams.error(), "ExecProcess stdio");
    }
    plan.stdio = streams->fds();
    auto p = std::make_shared<ProcessState>(req.exec_id());
    {
        std::lock_guard lock(mu_);
        if (c->execs.count(req.exec_id()) != 0) {
            return Status{rpc::kAlreadyExists, "exec " + req.exec_id()};
        }
        c->execs[req.exec_id()] = p; // reserved; removed again on failure
    }
    auto fail = [&](const Status& st) {
        std::lock_guard lock(mu_);
        c->execs.erase(req.exec_id());
        return st;
    };
    auto launched = ContainerProcess::create_exec(plan, reaper_, options_.setup_timeout);
    if (!launched.ok()) {
        const LaunchError le = ContainerProcess::describe(launched.error());
        return fail(to_status(le.error, "ExecProcess: " + le.step));
    }
    p->pid = launched->pid();
    if (UniqueFd console = launched->take_console(); console) {
        p->relay =
            std::make_unique<PtyRelay>(std::move(console), std::move(streams->terminal_stream));
    }
    p->stdio = std::move(streams->relay);
    p->watch(reaper_);
    if (auto r = launched->start(options_.setup_timeout); !r.ok()) {
        const LaunchError le = ContainerProcess::describe(r.error());
        return to_status(le.error, "ExecProcess: " + le.step); // exits; WaitProcess reports it
    }
    resp.set_pid(static_cast<uint32_t>(p->pid));
    return Status::Ok();
}

Status AgentService::signal_process(const Ctx&, const pb::SignalProcessRequest& req, pb::Empty&) {
    if (auto r = check_signal(req.signal()); !r.ok()) {
        return to_status(r.error(), "SignalProcess");
    }
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    const int sig = static_cast<int>(req.signal());
    if (req.all()) {
        std::lock_guard lock(mu_);
        kill_all(*c, sig);
        return Status::Ok();
    }
    std::shared_ptr<ProcessState> p;
    {
        std::lock_guard lock(mu_);
        p = c->find(req.exec_id());
    }
    if (!p) {
        return not_found("exec " + req.exec_id());
    }
    if (p->exited()) {
        return Status{rpc::kNotFound, "process " + std::to_string(p->pid) + " already exited"};
    }
    if (::kill(p->pid, sig) < 0) {
        return to_status(Error::from_errno("kill " + std::to_string(p->pid)), "SignalProcess");
    }
    return Status::Ok();
}

Status AgentService::wait_process(const Ctx& ctx, const pb::WaitProcessRequest& req,
                                  pb::WaitProcessResponse& resp) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    std::shared_ptr<ProcessState> p;
    {
        std::lock_guard lock(mu_);
        p = c->find(req.exec_id());
    }
    if (!p) {
        return not_found("exec " + req.exec_id());
    }
    // Polls so a closed connection or server shutdown ends the wait.
    for (;;) {
        if (auto rec = p->wait_exit(std::chrono::milliseconds(200))) {
            const int status = shell_exit_status(rec->wait_status);
            resp.set_exit_status(static_cast<uint32_t>(status));
            resp.set_oom_killed(container_oom_killed(*c, status));
            const auto ns =
                std::chrono::duration_cast<std::chrono::nanoseconds>(rec->at.time_since_epoch())
                    .count();
            resp.mutable_exited_at()->set_seconds(ns / 1000000000);
            resp.mutable_exited_at()->set_nanos(static_cast<int32_t>(ns % 1000000000));
            return Status::Ok();
        }
        if (ctx.cancelled()) {
            return Status{rpc::kCancelled, "WaitProcess: connection closed"};
        }
        if (ctx.expired()) {
            return Status{rpc::kDeadlineExceeded, "WaitProcess"};
        }
    }
}

Status AgentService::resize_tty(const Ctx&, const pb::ResizeTtyRequest& req, pb::Empty&) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    std::lock_guard lock(mu_);
    auto p = c->find(req.exec_id());
    if (!p || !p->relay) {
        return Status{rpc::kFailedPrecondition, "process has no terminal"};
    }
    if (auto r = resize_pty(p->relay->master(), req.width(), req.height()); !r.ok()) {
        return to_status(r.error(), "ResizeTty");
    }
    return Status::Ok();
}

Status AgentService::close_stdin(const Ctx&, const pb::CloseStdinRequest& req, pb::Empty&) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    std::lock_guard lock(mu_);
    auto p = c->find(req.exec_id());
    if (!p) {
        return not_found("exec " + req.exec_id());
    }
    if (p->relay) {
        const char eot = 4; // ^D: end of input on a terminal
        [[maybe_unused]] ssize_t n = ::write(p->relay->master(), &eot, 1);
    } else if (p->stdio) {
        p->stdio->close_stdin(); // the stdin pipe's write end closes: the process reads EOF
    }
    return Status::Ok();
}

Status AgentService::list_processes(const Ctx&, const pb::ListProcessesRequest& req,
                                    pb::ListProcessesResponse& resp) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    std::lock_guard lock(mu_);
    std::map<pid_t, std::string> known;
    if (c->init && !c->init->exited()) {
        known[c->init->pid] = "";
    }
    for (auto& [id, p] : c->execs) {
        if (!p->exited()) {
            known[p->pid] = id;
        }
    }
    if (c->cgroup) {
        if (auto pids = c->cgroup->processes(); pids.ok()) {
            for (pid_t pid : *pids) {
                known.emplace(pid, "");
            }
        }
    }
    for (auto& [pid, id] : known) {
        pb::ProcessEntry e;
        e.set_pid(static_cast<uint32_t>(pid));
        e.set_exec_id(id);
        if (read_proc_entry(pid, e)) { // else it exited since the cgroup listed it
            *resp.add_processes() = std::move(e);
        }
    }
    return Status::Ok();
}

Status AgentService::stats_container(const Ctx&, const pb::StatsContainerRequest& req,
                                     pb::StatsContainerResponse& resp) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    if (!c->cgroup) {
        return no_cgroup(c->id);
    }
    auto s = c->cgroup->stats();
    if (!s.ok()) {
        return to_status(s.error(), "StatsContainer");
    }
    resp.set_cpu_usage_usec(s->cpu_usage_usec);
    resp.set_cpu_user_usec(s->cpu_user_usec);
    resp.set_cpu_system_usec(s->cpu_system_usec);
    resp.set_memory_current_bytes(s->memory_current);
    resp.set_memory_limit_bytes(s->memory_limit);
    resp.set_pids_current(s->pids_current);
    resp.set_io_read_bytes(s->io_read_bytes);
    resp.set_io_write_bytes(s->io_write_bytes);
    // pids.max and MemTotal: "max" and unreadable both read as 0 (no limit).
    resp.set_pids_limit(read_first_number(c->cgroup->path() + "/pids.max"));
    resp.set_vm_memory_bytes(mem_total_bytes());
    return Status::Ok();
}

Status AgentService::update_container(const Ctx&, const pb::UpdateContainerRequest& req,
                                      pb::Empty&) {
    auto resources = check_update(req);
    if (!resources.ok()) {
        return to_status(resources.error(), "UpdateContainer");
    }
    auto c = find(req.container_id());
    if (!c) {
        return not_found("container " + req.container_id());
    }
    if (!c->cgroup) {
        return no_cgroup(c->id);
    }
    if (auto r = c->cgroup->apply(*resources); !r.ok()) {
        return to_status(r.error(), "UpdateContainer");
    }
    return Status::Ok();
}

Status AgentService::set_frozen(const std::string& id, bool frozen, const char* method) {
    auto c = find(id);
    if (!c) {
        return not_found("container " + id);
    }
    if (!c->cgroup) {
        return no_cgroup(c->id);
    }
    if (auto r = c->cgroup->freeze(frozen); !r.ok()) {
        return to_status(r.error(), method);
    }
    c->paused = frozen;
    return Status::Ok();
}

Status AgentService::pause_container(const Ctx&, const pb::PauseContainerRequest& req, pb::Empty&) {
    return set_frozen(req.container_id(), true, "PauseContainer");
}

Status AgentService::resume_container(const Ctx&, const pb::ResumeContainerRequest& req,
                                      pb::Empty&) {
    return set_frozen(req.container_id(), false, "ResumeContainer");
}

} // namespace runvm::agent
