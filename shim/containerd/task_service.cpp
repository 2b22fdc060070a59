// TaskService: lookups, state, wait, kill, delete and the small calls; create/start are in
// task_create.cpp, exec in task_exec.cpp.
#include "shim/containerd/task_service.hpp"

#include <csignal>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "shim/containerd/rootfs_mounts.hpp"
#include "shim/containerd/time_util.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"

namespace runvm::containerd {

using namespace std::chrono_literals;
using nlohmann::json;

rpc::Status status_from_error(const Error& e) {
    int32_t code = rpc::kUnknown;
    switch (e.code()) {
    case ENOENT:
    case ESRCH:
        code = rpc::kNotFound;
        break;
    case EEXIST:
        code = rpc::kAlreadyExists;
        break;
    case EINVAL:
        code = rpc::kInvalidArgument;
        break;
    case ENOTSUP:
    case ENOSYS:
        code = rpc::kUnimplemented;
        break;
    case ETIMEDOUT:
        code = rpc::kDeadlineExceeded;
        break;
    case EBUSY:
        code = rpc::kFailedPrecondition;
        break;
    default:
        break;
    }
    return rpc::Status{code, e.str()};
}

namespace {

::containerd::v1::types::Status api_status(ProcessState s) {
    switch (s) {
    case ProcessState::created:
        return ::containerd::v1::types::CREATED;
    case ProcessState::running:
        return ::containerd::v1::types::RUNNING;
    case ProcessState::paused:
        return ::containerd::v1::types::PAUSED;
    case ProcessState::stopped:
        return ::containerd::v1::types::STOPPED;
    case ProcessState::creating:
        break;
    }
    return ::containerd::v1::types::UNKNOWN;
}

} // namespace

TaskService::TaskService(TaskServiceOptions options, EventPublisher& events, Reaper& reaper,
                         std::function<void()> request_shutdown)
    : options_(std::move(options)), events_(events), reaper_(reaper),
      request_shutdown_(std::move(request_shutdown)) {}

TaskService::~TaskService() {
    // Exec sessions join their waiters, whose callbacks take mu_: drop them unlocked.
    std::map<std::string, TaskContainer> doomed;
    {
        std::lock_guard lock(mu_);
        doomed.swap(containers_);
    }
}

std::string TaskService::control_socket(const std::string& id) const {
    // A pod member's requests go to its pod's monitor (they name the container).
    auto routed = shim::control_socket_of(options_.runvm_root, id);
    return routed ? *routed : shim::ContainerStore(options_.runvm_root).control_socket(id);
}

size_t TaskService::container_count() {
    std::lock_guard lock(mu_);
    return containers_.size();
}

rpc::Status TaskService::find_locked(const std::string& id, const std::string& exec_id,
                                     std::shared_ptr<TaskProcess>& out) {
    auto c = containers_.find(id);
    if (c == containers_.end() || !c->second.init) {
        return rpc::Status{rpc::kNotFound, "container " + id + " not found"};
    }
    if (exec_id.empty()) {
        out = c->second.init;
        return rpc::Status::Ok();
    }
    auto e = c->second.execs.find(exec_id);
    if (e == c->second.execs.end()) {
        return rpc::Status{rpc::kNotFound,
                           "process " + exec_id + " of container " + id + " not found"};
    }
    out = e->second;
    return rpc::Status::Ok();
}

void TaskService::publish_exit_locked(const TaskProcess& p) {
    // containerd's order (runc's shim does the same): TaskOOM, then TaskExit.
    if (p.oom_killed) {
        ::containerd::events::TaskOOM oom;
        oom.set_container_id(p.container_id);
        events_.publish(topic::kTaskOOM, oom);
    }
    ::containerd::events::TaskExit ev;
    ev.set_container_id(p.container_id);
    ev.set_id(p.exec_id.empty() ? p.container_id : p.exec_id);
    ev.set_pid(p.pid);
    ev.set_exit_status(static_cast<uint32_t>(p.exit_status));
    *ev.mutable_exited_at() = to_timestamp(p.exited_at);
    events_.publish(topic::kTaskExit, ev);
}

void TaskService::on_init_exit(const std::shared_ptr<TaskProcess>& p, int status) {
    // The monitor wrote its record (exit status, OOM kill) before it exited.
    auto record = shim::ContainerStore(options_.runvm_root).load(p->container_id);
    if (record && record->oom_killed) {
        std::lock_guard lock(mu_);
        p->oom_killed = true;
    }
    on_exit(p, status);
}

void TaskService::on_exit(const std::shared_ptr<TaskProcess>& p, int status) {
    // A terminal's last output is still in the pty: let it reach containerd before the exit
    // event makes ctr stop reading.
    if (p->io) {
        p->io->wait_output(2s);
    }
    std::lock_guard lock(mu_);
    if (p->state == ProcessState::stopped) {
        return;
    }
    p->state = ProcessState::stopped;
    p->exit_status = status;
    p->exited_at = std::chrono::system_clock::now();
    spdlog::info("{} {} exited with {}", p->container_id,
                 p->exec_id.empty() ? "init" : "exec " + p->exec_id, status);
    if (p->starting) {
        p->pending_exit = true; // start() publishes TaskStart first, then this
    } else {
        publish_exit_locked(*p);
    }
    exited_cv_.notify_all();
}

rpc::Status TaskService::state(const taskapi::StateRequest& req, taskapi::StateResponse& resp) {
    std::lock_guard lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
        return st;
    }
    resp.set_id(p->exec_id.empty() ? p->container_id : p->exec_id);
    resp.set_exec_id(p->exec_id);
    resp.set_bundle(containers_[req.id()].bundle);
    resp.set_pid(p->pid);
    resp.set_status(api_status(p->state));
    resp.set_stdin(p->io_paths.stdin_path);
    resp.set_stdout(p->io_paths.stdout_path);
    resp.set_stderr(p->io_paths.stderr_path);
    resp.set_terminal(p->io_paths.terminal);
    if (p->state == ProcessState::stopped) {
        resp.set_exit_status(static_cast<uint32_t>(p->exit_status));
        *resp.mutable_exited_at() = to_timestamp(p->exited_at);
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::wait(const rpc::CallContext& ctx, const taskapi::WaitRequest& req,
                              taskapi::WaitResponse& resp) {
    std::unique_lock lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
        return st;
    }
    // No deadline of our own: a task runs as long as it likes. The connection closing or
    // the server stopping cancels the call.
    while (p->state != ProcessState::stopped) {
        if (ctx.cancelled()) {
            return rpc::Status{rpc::kCancelled, "wait cancelled"};
        }
        if (ctx.expired()) {
            return rpc::Status{rpc::kDeadlineExceeded, "wait: deadline exceeded"};
        }
        exited_cv_.wait_for(lock, 200ms);
    }
    resp.set_exit_status(static_cast<uint32_t>(p->exit_status));
    *resp.mutable_exited_at() = to_timestamp(p->exited_at);
    return rpc::Status::Ok();
}

rpc::Status TaskService::kill(const taskapi::KillRequest& req) {
    std::shared_ptr<TaskProcess> p;
    {
        std::lock_guard lock(mu_);
        if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
            return st;
        }
        if (p->state == ProcessState::stopped) {
            return rpc::Status{rpc::kNotFound, "process already finished"};
        }
        if (p->state == ProcessState::creating) {
            return rpc::Status{rpc::kFailedPrecondition,
                               "container " + req.id() + " is still being created"};
        }
    }
    const int sig = static_cast<int>(req.signal());
    if (sig <= 0 || sig >= 65) {
        return rpc::Status{rpc::kInvalidArgument,
                           "signal " + std::to_string(sig) + " out of range"};
    }
    if (!req.exec_id().empty()) {
        // The monitor signals execs by the agent's exec id.
        auto r = shim::monitor_request(
            options_.runvm_root, req.id(),
            {{"op", "kill"},
             {"signal", sig},
             {"all", false},
             {"exec_id", p->session ? p->session->monitor_exec_id() : std::string()}});
        return r ? rpc::Status::Ok() : status_from_error(r.error());
    }
    if (auto r = shim::kill_container(options_.runvm_root, req.id(), sig, req.all()); !r) {
        return status_from_error(r.error());
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::remove(const taskapi::DeleteRequest& req, taskapi::DeleteResponse& resp) {
    std::shared_ptr<TaskProcess> p;
    std::unique_ptr<ExecSession> session;
    {
        std::lock_guard lock(mu_);
        if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
            return st;
        }
        if (!req.exec_id().empty()) {
            if (p->state != ProcessState::stopped && p->state != ProcessState::created) {
                return rpc::Status{rpc::kFailedPrecondition,
                                   "cannot delete running process " + req.exec_id()};
            }
            resp.set_pid(p->pid);
            resp.set_exit_status(static_cast<uint32_t>(p->exit_status));
            *resp.mutable_exited_at() = to_timestamp(p->exited_at);
            session = std::move(p->session);
            containers_[req.id()].execs.erase(req.exec_id());
            return rpc::Status::Ok();
        }
        if (p->state == ProcessState::running || p->state == ProcessState::paused ||
            p->state == ProcessState::creating) {
            return rpc::Status{rpc::kFailedPrecondition,
                               "cannot delete container " + req.id() + " while it runs"};
        }
    }
    // Created but never started, or exited: the monitor stops the VM (force: a created
    // container's process never ran) and runvm's record goes.
    if (auto r = shim::delete_container(options_.runvm_root, req.id(), true); !r) {
        if (r.error().code() != ENOENT) {
            spdlog::warn("delete {}: {}", req.id(), r.error().str());
        }
    }
    TaskContainer gone;
    {
        std::lock_guard lock(mu_);
        auto it = containers_.find(req.id());
        if (it == containers_.end()) {
            return rpc::Status{rpc::kNotFound, "container " + req.id() + " not found"};
        }
        gone = std::move(it->second);
        containers_.erase(it);
        if (p->state != ProcessState::stopped) {
            // Never started: there is no exit of its own (containerd reads 128+SIGKILL).
            p->state = ProcessState::stopped;
            p->exit_status = 128 + SIGKILL;
            p->exited_at = std::chrono::system_clock::now();
            exited_cv_.notify_all();
        }
        resp.set_pid(p->pid);
        resp.set_exit_status(static_cast<uint32_t>(p->exit_status));
        *resp.mutable_exited_at() = to_timestamp(p->exited_at);
        ::containerd::events::TaskDelete ev;
        ev.set_container_id(req.id());
        ev.set_pid(p->pid);
        ev.set_exit_status(static_cast<uint32_t>(p->exit_status));
        *ev.mutable_exited_at() = to_timestamp(p->exited_at);
        events_.publish(topic::kTaskDelete, ev);
    }
    if (gone.rootfs_mounted) {
        if (auto r = unmount_all(gone.bundle + "/rootfs"); !r) {
            spdlog::warn("{}", r.error().str());
        }
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::pids(const taskapi::PidsRequest& req, taskapi::PidsResponse& resp) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<TaskProcess> p;
        if (auto st = find_locked(req.id(), "", p); !st.ok()) {
            return st;
        }
        if (p->state == ProcessState::stopped || p->state == ProcessState::creating) {
            return rpc::Status::Ok();
        }
    }
    auto r = shim::monitor_request(options_.runvm_root, req.id(), {{"op", "ps"}});
    if (!r) {
        return status_from_error(r.error());
    }
    // The host pids that stand for the container (monitor, broker, hypervisor), as runc's
    // shim returns its cgroup's pids: `docker top` looks them up in the host's ps.
    for (const auto& pid : r->value("host_pids", json::array())) {
        resp.add_processes()->set_pid(pid.get<uint32_t>());
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::resize_pty(const taskapi::ResizePtyRequest& req) {
    std::lock_guard lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
        return st;
    }
    if (!p->io) {
        return rpc::Status{rpc::kFailedPrecondition, "process has no io"};
    }
    auto r = p->io->resize(req.width(), req.height());
    return r ? rpc::Status::Ok() : status_from_error(r.error());
}

rpc::Status TaskService::close_io(const taskapi::CloseIORequest& req) {
    std::lock_guard lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
        return st;
    }
    if (req.stdin() && p->io) {
        p->io->close_stdin();
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::update(const taskapi::UpdateTaskRequest& req) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<TaskProcess> p;
        if (auto st = find_locked(req.id(), "", p); !st.ok()) {
            return st;
        }
    }
    // containerd marshals specs.LinuxResources with typeurl, which writes JSON.
    json resources = json::object();
    if (req.has_resources() && !req.resources().value().empty()) {
        resources = json::parse(req.resources().value(), nullptr, false);
        if (resources.is_discarded() || !resources.is_object()) {
            return rpc::Status{rpc::kInvalidArgument, "update: resources (" +
                                                          req.resources().type_url() +
                                                          ") are not LinuxResources JSON"};
        }
    }
    auto r = shim::monitor_request(options_.runvm_root, req.id(),
                                   {{"op", "update"}, {"resources", resources}});
    return r ? rpc::Status::Ok() : status_from_error(r.error());
}

rpc::Status TaskService::pause(const taskapi::PauseRequest& req) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<TaskProcess> p;
        if (auto st = find_locked(req.id(), "", p); !st.ok()) {
            return st;
        }
    }
    if (auto r = shim::monitor_request(options_.runvm_root, req.id(), {{"op", "pause"}}); !r) {
        return status_from_error(r.error());
    }
    std::lock_guard lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (find_locked(req.id(), "", p).ok() && p->state == ProcessState::running) {
        p->state = ProcessState::paused;
    }
    ::containerd::events::TaskPaused ev;
    ev.set_container_id(req.id());
    events_.publish(topic::kTaskPaused, ev);
    return rpc::Status::Ok();
}

rpc::Status TaskService::resume(const taskapi::ResumeRequest& req) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<TaskProcess> p;
        if (auto st = find_locked(req.id(), "", p); !st.ok()) {
            return st;
        }
    }
    if (auto r = shim::monitor_request(options_.runvm_root, req.id(), {{"op", "resume"}}); !r) {
        return status_from_error(r.error());
    }
    std::lock_guard lock(mu_);
    std::shared_ptr<TaskProcess> p;
    if (find_locked(req.id(), "", p).ok() && p->state == ProcessState::paused) {
        p->state = ProcessState::running;
    }
    ::containerd::events::TaskResumed ev;
    ev.set_container_id(req.id());
    events_.publish(topic::kTaskResumed, ev);
    return rpc::Status::Ok();
}

rpc::Status TaskService::connect(const taskapi::ConnectRequest& req,
                                 taskapi::ConnectResponse& resp) {
    std::lock_guard lock(mu_);
    resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
    resp.set_version("runvm 0.1.0");
    std::shared_ptr<TaskProcess> p;
    if (find_locked(req.id(), "", p).ok()) {
        resp.set_task_pid(p->pid);
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::shutdown(const taskapi::ShutdownRequest&) {
    std::lock_guard lock(mu_);
    // Like runc's shim: a shim that still serves containers stays.
    if (containers_.empty()) {
        request_shutdown_();
    }
    return rpc::Status::Ok();
}

rpc::Status TaskService::checkpoint(const taskapi::CheckpointTaskRequest& req) {
    return rpc::Status{rpc::kUnimplemented,
                       "checkpoint of container " + req.id() +
                           " is not supported by runvm: a VM's memory and devices are not "
                           "saved (no CRIU equivalent yet)"};
}

} // namespace runvm::containerd
