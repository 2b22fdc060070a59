// Create and Start: containerd's rootfs mounted into the bundle, `runvm create` run with
// the task's stdio (its monitor becomes the shim's child through the subreaper), then the
// monitor asked to start the process.
#include <csignal>
#include <cstdlib>
#include <fstream>

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/scope_guard.hpp"
#include "base/unix_socket.hpp"
#include "oci/spec_json.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/host_cgroup.hpp"
#include "shim/containerd/console_receiver.hpp"
#include "shim/containerd/rootfs_mounts.hpp"
#include "shim/containerd/spawn.hpp"
#include "shim/containerd/task_service.hpp"
#include "shim/containerd/time_util.hpp"

namespace runvm::containerd {

using namespace std::chrono_literals;

namespace {

// The last error `runvm --log` wrote ("... error: <message>"), for the create's failure.
std::string last_logged_error(const std::string& log_path) {
    std::ifstream in(log_path);
    std::string line;
    std::string last;
    while (std::getline(in, line)) {
        if (auto pos = line.find(" error: "); pos != std::string::npos) {
            last = line.substr(pos + 8);
        }
    }
    return last;
}

} // namespace

Result<uint32_t> TaskService::create_vm(TaskContainer& c, TaskProcess& init) {
    const std::string pid_file = c.bundle + "/init.pid";
    const std::string log_file = c.bundle + "/runvm.log";
    std::unique_ptr<ConsoleReceiver> console;
    std::vector<std::string> argv = {options_.runvm_binary, "--root", options_.runvm_root, "--log",
                                     log_file};
    // CRI with SystemdCgroup gives slice:prefix:name (host_cgroup.hpp).
    if (auto s = oci::load_spec(c.bundle + "/config.json");
        s && s->linux && s->linux->cgroups_path &&
        shim::is_systemd_cgroups_path(*s->linux->cgroups_path)) {
        argv.push_back("--systemd-cgroup");
    }
    argv.insert(argv.end(), {"create", "--bundle", c.bundle, "--pid-file", pid_file});
    if (init.io_paths.terminal) {
        RUNVM_ASSIGN_OR_RETURN(console, ConsoleReceiver::listen(c.id));
        argv.insert(argv.end(), {"--console-socket", console->path()});
    }
    argv.push_back(c.id);
    SpawnSpec spec;
    spec.argv = argv;
    spec.stdio = {init.io->process_stdin(), init.io->process_stdout(), init.io->process_stderr()};
    spec.cwd = c.bundle;
    RUNVM_ASSIGN_OR_RETURN(const ProcessHandle create, spawn_process(spec));
    auto status = reaper_.wait(create.pid(), options_.create_timeout);
    if (!status) {
        (void)create.signal(SIGKILL); // a no-op if the Reaper took its exit meanwhile
        (void)reaper_.wait(create.pid(), 5s);
        return Err(Error::with_errno(ETIMEDOUT,
                                     "runvm create " + c.id + " did not finish in " +
                                         std::to_string(options_.create_timeout.count()) + " ms"));
    }
    if (*status != 0) {
        std::string why = last_logged_error(log_file);
        return Err(Error::msg("runvm create " + c.id + " exited with " + std::to_string(*status) +
                              (why.empty() ? "" : ": " + why)));
    }
    // The monitor now holds the process side of the stdio.
    init.io->release_process_side();
    RUNVM_ASSIGN_OR_RETURN(std::string pid_text, read_file(pid_file));
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 0) {
        return Err(Error::with_errno(EINVAL, "pid file " + pid_file + ": '" + pid_text + "'"));
    }
    if (console) {
        RUNVM_ASSIGN_OR_RETURN(UniqueFd master, console->receive(10s));
        RUNVM_TRY(init.io->attach_console(std::move(master)));
    }
    return static_cast<uint32_t>(pid);
}

rpc::Status TaskService::create(const taskapi::CreateTaskRequest& req,
                                taskapi::CreateTaskResponse& resp) {
    if (auto v = shim::validate_container_id(req.id()); !v) {
        return status_from_error(v.error());
    }
    if (!req.checkpoint().empty()) {
        return rpc::Status{rpc::kUnimplemented,
                           "restore from a checkpoint is not supported by runvm"};
    }
    auto init = std::make_shared<TaskProcess>();
    init->container_id = req.id();
    init->io_paths = {req.stdin(), req.stdout(), req.stderr(), req.terminal()};
    {
        std::lock_guard lock(mu_);
        if (containers_.count(req.id())) {
            return rpc::Status{rpc::kAlreadyExists, "container " + req.id() + " already exists"};
        }
        TaskContainer& c = containers_[req.id()];
        c.id = req.id();
        c.bundle = req.bundle();
        c.init = init;
    }
    // Any failure below takes the entry out again.
    ScopeGuard drop([&] {
        std::lock_guard lock(mu_);
        containers_.erase(req.id());
    });
    TaskContainer local;
    local.id = req.id();
    local.bundle = req.bundle();
    if (req.rootfs_size() > 0) {
        std::vector<MountSpec> mounts;
        for (const auto& m : req.rootfs()) {
            mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
        }
        const std::string target = req.bundle() + "/rootfs";
        ::mkdir(target.c_str(), 0711);
        if (auto r = mount_rootfs(mounts, target); !r) {
            return status_from_error(r.error());
        }
        local.rootfs_mounted = true;
    }
    ScopeGuard unmount([&] {
        if (local.rootfs_mounted) {
            (void)unmount_all(req.bundle() + "/rootfs");
        }
    });
    auto io = ProcessIo::open(init->io_paths);
    if (!io) {
        return status_from_error(io.error());
    }
    init->io = std::move(*io);
    auto pid = create_vm(local, *init);
    if (!pid) {
        spdlog::error("create {}: {}", req.id(), pid.error().str());
        // Whatever runvm left (a half-made record) goes; the monitor already stopped the VM.
        (void)shim::delete_container(options_.runvm_root, req.id(), true);
        return status_from_error(pid.error());
    }
    drop.dismiss();
    unmount.dismiss();
    {
        std::lock_guard lock(mu_);
        TaskContainer& c = containers_[req.id()];
        c.rootfs_mounted = local.rootfs_mounted;
        init->pid = *pid;
        init->state = ProcessState::created;
        ::containerd::events::TaskCreate ev;
        ev.set_container_id(req.id());
        ev.set_bundle(req.bundle());
        *ev.mutable_rootfs() = req.rootfs();
        ev.mutable_io()->set_stdin(req.stdin());
        ev.mutable_io()->set_stdout(req.stdout());
        ev.mutable_io()->set_stderr(req.stderr());
        ev.mutable_io()->set_terminal(req.terminal());
        ev.set_pid(*pid);
        events_.publish(topic::kTaskCreate, ev);
    }
    // The monitor exits with the container's status; it is our child by now (subreaper).
    reaper_.watch(static_cast<pid_t>(*pid), [this, init](int code) { on_init_exit(init, code); });
    resp.set_pid(*pid);
    return rpc::Status::Ok();
}

rpc::Status TaskService::start(const taskapi::StartRequest& req, taskapi::StartResponse& resp) {
    std::shared_ptr<TaskProcess> p;
    {
        std::lock_guard lock(mu_);
        if (auto st = find_locked(req.id(), req.exec_id(), p); !st.ok()) {
            return st;
        }
        if (p->state != ProcessState::created) {
            return rpc::Status{rpc::kFailedPrecondition,
                               "process " + (req.exec_id().empty() ? req.id() : req.exec_id()) +
                                   " is not in the created state"};
        }
        p->starting = true;
    }
    rpc::Status result = rpc::Status::Ok();
    if (!req.exec_id().empty()) {
        result = start_exec(*p, p);
    } else if (auto r = shim::start_container(options_.runvm_root, req.id()); !r) {
        result = status_from_error(r.error());
    }
    std::lock_guard lock(mu_);
    p->starting = false;
    if (result.ok()) {
        if (p->state == ProcessState::created) {
            p->state = ProcessState::running;
        }
        if (req.exec_id().empty()) {
            ::containerd::events::TaskStart ev;
            ev.set_container_id(req.id());
            ev.set_pid(p->pid);
            events_.publish(topic::kTaskStart, ev);
        } else {
            ::containerd::events::TaskExecStarted ev;
            ev.set_container_id(req.id());
            ev.set_exec_id(req.exec_id());
            ev.set_pid(p->pid);
            events_.publish(topic::kTaskExecStarted, ev);
        }
        resp.set_pid(p->pid);
    }
    if (p->pending_exit) {
        p->pending_exit = false;
        publish_exit_locked(*p);
    }
    return result;
}

} // namespace runvm::containerd
