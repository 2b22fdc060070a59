// Container lifecycle handlers: create (rootfs, cgroup, launch), start, remove, destroy,
// and the registration table.
#include "guest_agent/service/agent_service.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/step_clock.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/service/identity.hpp"
#include "guest_agent/service/request_checks.hpp"
#include "guest_agent/service/status_map.hpp"

namespace runvm::agent {

namespace {
using Status = rpc::Status;

Status not_found(const std::string& id) {
    return Status{rpc::kNotFound, "container " + id};
}

// Mounts a block-device rootfs under the state dir; returns the mount point.
Result<std::string> mount_block_rootfs(const std::string& state_dir, const std::string& id,
                                       const pb::Rootfs& r) {
    const std::string target = state_dir + "/" + id + "/rootfs";
    RUNVM_TRY(mkdir_all(target, 0755));
    std::string options;
    for (const auto& o : r.options()) {
        options += (options.empty() ? "" : ",") + o;
    }
    const std::string type = r.fs_type().empty() ? "ext4" : r.fs_type();
    const unsigned long flags = r.readonly() ? MS_RDONLY : 0;
    if (::mount(r.block_device().c_str(), target.c_str(), type.c_str(), flags,
                options.empty() ? nullptr : options.c_str()) < 0) {
        return Err(Error::from_errno("mount " + r.block_device() + " (" + type + ") on " + target));
    }
    return target;
}
// rmdir of a cgroup directory and everything under it, deepest first (cgroupfs lets
// rmdir remove a directory that holds only its interface files).
void remove_cgroup_tree(const std::string& root) {
    std::error_code ec;
    std::vector<std::string> dirs;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
            dirs.push_back(it->path().string());
        }
    }
    std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
        return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
    });
    dirs.push_back(root);
    for (const auto& d : dirs) {
        if (::rmdir(d.c_str()) < 0 && errno != ENOENT) {
            spdlog::warn("rmdir cgroup {}: {}", d, std::strerror(errno));
        }
    }
}
} // namespace

AgentService::AgentService(AgentOptions options, Reaper& reaper)
    : options_(std::move(options)), reaper_(reaper) {}

AgentService::~AgentService() {
    std::map<std::string, std::shared_ptr<ContainerState>> all;
    {
        std::lock_guard lock(mu_);
        all.swap(containers_);
    }
    for (auto& [id, c] : all) {
        teardown(*c);
    }
    if (!options_.cgroup_mount.empty() && !options_.cgroup_parent.empty()) {
        remove_cgroup_tree(options_.cgroup_mount + "/" + options_.cgroup_parent);
    }
}

std::shared_ptr<ContainerState> AgentService::find(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    return it == containers_.end() ? nullptr : it->second;
}

Status AgentService::create_container(const Ctx&, const pb::CreateContainerRequest& req,
                                      pb::CreateContainerResponse& resp) {
    StepClock steps;
    auto spec = check_create(req);
    if (!spec.ok()) {
        return to_status(spec.error(), "CreateContainer");
    }
    steps.lap("spec");
    std::lock_guard life(lifecycle_mu_);
    if (find(req.container_id())) {
        return Status{rpc::kAlreadyExists, "container " + req.container_id()};
    }
    auto c = std::make_shared<ContainerState>();
    c->id = req.container_id();
    c->spec = std::move(spec).value();
    auto undo = [&](const Status& st) {
        teardown(*c);
        return st;
    };
    if (req.has_shared_fs()) { // the spec's host bind mounts have their sources there
        if (auto r = shared_fs_.ensure(req.shared_fs()); !r.ok()) {
            return undo(to_status(r.error(), "CreateContainer shared_fs"));
        }
    }
    if (req.rootfs().has_block_device()) {
        auto mounted = mount_block_rootfs(options_.state_dir, c->id, req.rootfs());
        if (!mounted.ok()) {
            return undo(to_status(mounted.error(), "CreateContainer rootfs"));
        }
        c->rootfs = c->mounted_rootfs = *mounted;
    } else {
        c->rootfs = req.rootfs().directory();
    }
    steps.lap("rootfs");
    auto plan = plan_launch(c->id, c->rootfs, c->rootfs, c->spec);
    if (!plan.ok()) {
        return undo(to_status(plan.error(), "CreateContainer"));
    }
    if (plan->process.terminal != req.stdio().terminal()) {
        return undo(Status{rpc::kInvalidArgument,
                           "CreateContainer: stdio.terminal differs from process.terminal"});
    }
    if (!options_.cgroup_mount.empty()) {
        std::string rel = c->spec.linux && c->spec.linux->cgroups_path
                              ? *c->spec.linux->cgroups_path
                              : "runvm/" + c->id;
        if (!options_.cgroup_parent.empty()) {
            rel = options_.cgroup_parent + "/" + rel;
        }
        auto cg = Cgroup::create(options_.cgroup_mount, rel);
        if (!cg.ok()) {
            return undo(to_status(cg.error(), "CreateContainer cgroup"));
        }
        c->cgroup = std::move(cg).value();
        if (c->spec.linux && c->spec.linux->resources) {
            if (auto r = c->cgroup->apply(*c->spec.linux->resources); !r.ok()) {
                return undo(to_status(r.error(), "CreateContainer linux.resources"));
            }
        }
        plan->cgroup_dir = c->cgroup->path();
    } else if (c->spec.linux && c->spec.linux->resources) {
        spdlog::warn("container {}: no cgroup v2 here, linux.resources not applied", c->id);
    }
    steps.lap("plan and cgroup");
    auto streams = open_process_streams(options_.stdio, req.stdio(), options_.setup_timeout);
    if (!streams.ok()) {
        return undo(to_status(streams.error(), "CreateContainer stdio"));
    }
    plan->stdio = streams->fds();
    steps.lap("stdio");
    auto launched = ContainerProcess::create(*plan, reaper_, options_.setup_timeout);
    if (!launched.ok()) {
        const LaunchError le = ContainerProcess::describe(launched.error());
        return undo(to_status(le.error, "CreateContainer: " + le.step));
    }
    auto init = std::make_shared<ProcessState>("");
    init->pid = launched->pid();
    if (UniqueFd console = launched->take_console(); console) {
        init->relay =
            std::make_unique<PtyRelay>(std::move(console), std::move(streams->terminal_stream));
    }
    init->stdio = std::move(streams->relay);
    init->launch = std::move(launched).value();
    init->watch(reaper_);
    c->init = init;
    resp.set_pid(static_cast<uint32_t>(init->pid));
    std::lock_guard lock(mu_);
    containers_[c->id] = c;
    steps.lap("launch");
    if (spdlog::should_log(spdlog::level::info)) {
        spdlog::info("container {} created, init pid {} ({})", c->id, init->pid, steps.str());
    }
    return Status::Ok();
}

Status AgentService::start_container(const Ctx&, const pb::StartContainerRequest& req,
                                     pb::StartContainerResponse& resp) {
    auto c = find(req.container_id());
    if (!c) {
        return not_found(req.container_id());
    }
    std::optional<ContainerProcess> launch;
    {
        std::lock_guard lock(c->init->mu);
        if (!c->init->launch) {
            return Status{rpc::kFailedPrecondition, "container " + c->id + " already started"};
        }
        launch.swap(c->init->launch);
    }
    if (auto r = launch->start(options_.setup_timeout); !r.ok()) {
        const LaunchError le = ContainerProcess::describe(r.error());
        return to_status(le.error, "StartContainer: " + le.step);
    }
    resp.set_pid(static_cast<uint32_t>(c->init->pid));
    return Status::Ok();
}

void AgentService::kill_all(ContainerState& c, int sig) {
    std::vector<pid_t> pids;
    if (c.cgroup) {
        if (auto p = c.cgroup->processes(); p.ok()) {
            pids = *p;
        }
        if (sig == SIGKILL && c.paused) {
            (void)c.cgroup->freeze(false); // a frozen task takes SIGKILL only once thawed
        }
    }
    if (c.init && c.init->pid > 0) {
        pids.push_back(c.init->pid);
    }
    for (auto& [id, p] : c.execs) {
        if (p->pid > 0) {
            pids.push_back(p->pid);
        }
    }
    for (pid_t p : pids) {
        ::kill(p, sig);
    }
}

void AgentService::teardown(ContainerState& c) {
    kill_all(c, SIGKILL);
    if (c.init) {
        std::lock_guard lock(c.init->mu);
        c.init->launch.reset(); // a created-only init exits when its channel closes
    }
    const auto deadline = std::chrono::milliseconds(5000);
    if (c.init && c.init->pid > 0) {
        c.init->wait_exit(deadline);
    }
    for (auto& [id, p] : c.execs) {
        p->wait_exit(deadline);
    }
    if (c.cgroup) {
        if (auto r = c.cgroup->remove(); !r.ok()) {
            spdlog::warn("container {}: {}", c.id, r.error().str());
        }
    }
    if (!c.mounted_rootfs.empty() && ::umount2(c.mounted_rootfs.c_str(), MNT_DETACH) < 0) {
        spdlog::warn("container {}: umount {}: {}", c.id, c.mounted_rootfs, std::strerror(errno));
    }
}

Status AgentService::remove_container(const Ctx&, const pb::RemoveContainerRequest& req,
                                      pb::Empty&) {
    std::lock_guard life(lifecycle_mu_);
    auto c = find(req.container_id());
    if (!c) {
        return not_found(req.container_id());
    }
    const ContainerStatus st = c->status();
    if (!req.force() && (st == ContainerStatus::running || st == ContainerStatus::paused)) {
        return Status{rpc::kFailedPrecondition, "container " + c->id + " is running (use force)"};
    }
    teardown(*c);
    std::lock_guard lock(mu_);
    containers_.erase(c->id);
    return Status::Ok();
}

Status AgentService::destroy_sandbox(const Ctx&, const pb::DestroySandboxRequest& req, pb::Empty&) {
    std::map<std::string, std::shared_ptr<ContainerState>> all;
    {
        std::lock_guard life(lifecycle_mu_);
        std::lock_guard lock(mu_);
        all.swap(containers_);
    }
    for (auto& [id, c] : all) {
        teardown(*c);
    }
    if (req.poweroff() && options_.on_poweroff) {
        // After the response is on its way: the caller sees OK before the VM goes away.
        // Once: a second DestroySandbox finds the VM already going.
        std::call_once(poweroff_once_, [this] {
            poweroff_ = OwnedThread("poweroff", [fn = options_.on_poweroff] {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                fn();
            });
        });
    }
    return Status::Ok();
}

Status AgentService::health(const Ctx&, const pb::HealthRequest&, pb::HealthResponse& resp) {
    resp.set_status(pb::HealthResponse::SERVING);
    return Status::Ok();
}

Status AgentService::version(const Ctx&, const pb::VersionRequest&, pb::VersionResponse& resp) {
    resp.set_agent_version(RUNVM_AGENT_VERSION);
    resp.set_api_version(kAgentApiVersion);
    utsname u{};
    if (::uname(&u) == 0) {
        resp.set_kernel_release(u.release);
    }
    return Status::Ok();
}

Status AgentService::reinit(const Ctx&, const pb::ReinitRequest& req, pb::Empty&) {
    if (auto r = check_reinit(req); !r.ok()) {
        return to_status(r.error(), "Reinit");
    }
    // Host mode (tests) runs on the host itself: never reseed, set the clock of, or rename it.
    if (::getpid() != 1) {
        return Status{rpc::kFailedPrecondition, "Reinit: only as the guest's PID 1"};
    }
    std::lock_guard life(lifecycle_mu_); // no container starts half-way through it
    if (auto r = apply_reinit(req, IdentitySyscalls::real()); !r.ok()) {
        return to_status(r.error(), "Reinit");
    }
    return Status::Ok();
}

void AgentService::register_with(rpc::Server& s) {
#define RUNVM_AGENT_METHOD(name, fn, Req, Resp)                                                    \
    s.register_typed<Req, Resp>(                                                                   \
        kAgentService, name,                                                                       \
        [this](const Ctx& ctx, const Req& req, Resp& resp) { return fn(ctx, req, resp); })
    using Empty = pb::Empty;
    RUNVM_AGENT_METHOD("CreateContainer", create_container, pb::CreateContainerRequest,
                       pb::CreateContainerResponse);
    RUNVM_AGENT_METHOD("StartContainer", start_container, pb::StartContainerRequest,
                       pb::StartContainerResponse);
    RUNVM_AGENT_METHOD("ExecProcess", exec_process, pb::ExecProcessRequest,
                       pb::ExecProcessResponse);
    RUNVM_AGENT_METHOD("SignalProcess", signal_process, pb::SignalProcessRequest, Empty);
    RUNVM_AGENT_METHOD("WaitProcess", wait_process, pb::WaitProcessRequest,
                       pb::WaitProcessResponse);
    RUNVM_AGENT_METHOD("ResizeTty", resize_tty, pb::ResizeTtyRequest, Empty);
    RUNVM_AGENT_METHOD("CloseStdin", close_stdin, pb::CloseStdinRequest, Empty);
    RUNVM_AGENT_METHOD("ListProcesses", list_processes, pb::ListProcessesRequest,
                       pb::ListProcessesResponse);
    RUNVM_AGENT_METHOD("StatsContainer", stats_container, pb::StatsContainerRequest,
                       pb::StatsContainerResponse);
    RUNVM_AGENT_METHOD("UpdateContainer", update_container, pb::UpdateContainerRequest, Empty);
    RUNVM_AGENT_METHOD("PauseContainer", pause_container, pb::PauseContainerRequest, Empty);
    RUNVM_AGENT_METHOD("ResumeContainer", resume_container, pb::ResumeContainerRequest, Empty);
    RUNVM_AGENT_METHOD("RemoveContainer", remove_container, pb::RemoveContainerRequest, Empty);
    RUNVM_AGENT_METHOD("Health", health, pb::HealthRequest, pb::HealthResponse);
    RUNVM_AGENT_METHOD("Version", version, pb::VersionRequest, pb::VersionResponse);
    RUNVM_AGENT_METHOD("DestroySandbox", destroy_sandbox, pb::DestroySandboxRequest, Empty);
    RUNVM_AGENT_METHOD("ConfigureNetwork", configure_network, pb::ConfigureNetworkRequest, Empty);
    RUNVM_AGENT_METHOD("Reinit", reinit, pb::ReinitRequest, Empty);
#undef RUNVM_AGENT_METHOD
}

} // namespace runvm::agent
