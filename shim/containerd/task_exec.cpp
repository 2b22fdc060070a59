// Exec: an added process is kept until Start, which hands its stdio to the container's
// monitor (ExecSession); the exit comes back on that connection.
#include <spdlog/spdlog.h>

#include "shim/containerd/task_service.hpp"
#include "shim/container/console.hpp"

namespace runvm::containerd {

rpc::Status TaskService::exec(const taskapi::ExecProcessRequest& req) {
    if (req.exec_id().empty()) {
        return rpc::Status{rpc::kInvalidArgument, "exec of " + req.id() + ": empty exec id"};
    }
    // containerd marshals specs.Process with typeurl, which writes JSON.
    nlohmann::json spec = nlohmann::json::parse(req.spec().value(), nullptr, false);
    if (spec.is_discarded() || !spec.is_object()) {
        return rpc::Status{rpc::kInvalidArgument, "exec " + req.exec_id() + ": spec (" +
                                                      req.spec().type_url() +
                                                      ") is not a runtime-spec Process"};
    }
    std::lock_guard lock(mu_);
    auto c = containers_.find(req.id());
    if (c == containers_.end() || !c->second.init) {
        return rpc::Status{rpc::kNotFound, "container " + req.id() + " not found"};
    }
    if (c->second.init->state != ProcessState::running) {
        return rpc::Status{rpc::kFailedPrecondition,
                           "container " + req.id() + " is not running: cannot exec"};
    }
    if (c->second.execs.count(req.exec_id())) {
        return rpc::Status{rpc::kAlreadyExists, "exec " + req.exec_id() + " already exists"};
    }
    auto p = std::make_shared<TaskProcess>();
    p->container_id = req.id();
    p->exec_id = req.exec_id();
    p->io_paths = {req.stdin(), req.stdout(), req.stderr(), req.terminal()};
    p->exec_spec = std::move(spec);
    p->state = ProcessState::created;
    c->second.execs[req.exec_id()] = p;
    ::containerd::events::TaskExecAdded ev;
    ev.set_container_id(req.id());
    ev.set_exec_id(req.exec_id());
    events_.publish(topic::kTaskExecAdded, ev);
    return rpc::Status::Ok();
}

rpc::Status TaskService::start_exec(TaskProcess& p, const std::shared_ptr<TaskProcess>& holder) {
    auto io = ProcessIo::open(p.io_paths);
    if (!io) {
        return status_from_error(io.error());
    }
    std::vector<int> fds;
    UniqueFd slave;
    if (p.io_paths.terminal) {
        auto pty = shim::open_pty(0, 0);
        if (!pty) {
            return status_from_error(pty.error());
        }
        slave = std::move(pty->slave);
        if (auto r = (*io)->attach_console(std::move(pty->master)); !r) {
            return status_from_error(r.error());
        }
        fds = {slave.get()};
    } else {
        fds = {(*io)->process_stdin(), (*io)->process_stdout(), (*io)->process_stderr()};
    }
    auto session = ExecSession::start(control_socket(p.container_id), p.container_id, p.exec_spec,
                                      p.io_paths.terminal, fds);
    if (!session) {
        return status_from_error(session.error());
    }
    (*io)->release_process_side();
    ExecSession* raw = session->get();
    {
        std::lock_guard lock(mu_);
        p.pid = (*session)->pid();
        p.io = std::move(*io);
        p.session = std::move(*session);
    }
    raw->wait_async([this, holder](int code) { on_exit(holder, code); });
    return rpc::Status::Ok();
}

} // namespace runvm::containerd
