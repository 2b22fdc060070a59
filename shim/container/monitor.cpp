// The monitor's lifecycle: create the VM and the container, serve the control socket,
// wait for the container's end, tear down, exit with its status.
#include "shim/container/monitor.hpp"

#include <csignal>
#include <list>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/owned_thread.hpp"
#include "base/secure_dir.hpp"
#include "base/unix_socket.hpp"
#include "oci/hooks_runner.hpp"
#include "oci/spec_json.hpp"
#include "oci/validate.hpp"
#include "shim/container/console.hpp"
#include "shim/container/create_handshake.hpp"
#include "shim/container/host_stdio.hpp"
#include "shim/container/member_process.hpp"
#include "shim/container/monitor_state.hpp"
#include "shim/container/pod.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/container/vm_resources.hpp"
#include "shim/sandbox/failed_start_logs.hpp"
#include "shim/sandbox/guest_spec.hpp"
#include "shim/sandbox/stdio_bridge.hpp"
#include "shim/sandbox/vm_template.hpp"

namespace runvm::shim {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Monitor {
public:
    explicit Monitor(const MonitorOptions& o) : o_(o), s_(o.root) {}
    ~Monitor() { teardown(); }

    Result<void> create();
    int run();
    // A pooled VM (MonitorOptions::pool_key): booted with no container, it serves the one
    // container that claims it as a pod serves a member, and ends with it.
    Result<void> create_pool_vm();
    int run_pool();
    // A failed create leaves nothing behind: teardown removes the state directory.
    void discard() { discard_ = true; }

private:
    Result<void> create_container();
    Result<void> listen_for_control();
    // The record once the VM (and its container, if any) exists; callers hold s_.mu.
    void save_created_locked();
    void serve_control();
    void teardown();
    void watch_tty();

    const MonitorOptions& o_;
    MonitorState s_;
    oci::Spec guest_spec_;          // s_.spec as the agent gets it (guest_spec.hpp)
    std::vector<HostShare> shares_; // the host bind-mount sources guest_spec_ names
    bool rootfs_shared_ = false;    // rootfs: virtiofs: the rootfs is in shares_ too
    bool pod_sandbox_ = false;      // the pod's VM: members join it (pod.hpp)
    HostStdio stdio_;
    std::unique_ptr<StdioBridge> init_bridge_;
    UniqueFd listener_;
    UniqueFd stop_fd_[2];
    OwnedThread control_thread_;
    std::list<OwnedThread> connections_;
    std::optional<WindowSize> last_size_;
    bool discard_ = false;
};

Result<void> Monitor::create() {
    RUNVM_ASSIGN_OR_RETURN(s_.spec, oci::load_spec(o_.bundle + "/config.json"));
    RUNVM_TRY(oci::validate(s_.spec));
    if (!s_.spec.root || s_.spec.root->path.empty()) {
        return Err(Error::msg("config.json: root.path is required"));
    }
    // Checked before anything boots: a host directory the guest cannot see fails here.
    // Host files and directories reach the guest through virtio-fs, which needs bind mounts
    // (root); without, host files are left out and host directories refused.
    std::vector<std::string> notes;
    RUNVM_ASSIGN_OR_RETURN(guest_spec_, guest_spec(s_.spec, absolute(o_.bundle, s_.spec.root->path),
                                                   &notes, ::geteuid() == 0 ? &shares_ : nullptr));
    for (const auto& n : notes) {
        spdlog::info("container {}: {}", o_.id, n);
    }
    config::RuntimeConfig settings = o_.settings;
    if (s_.spec.annotations) {
        RUNVM_ASSIGN_OR_RETURN(settings, config::apply_annotations(settings, *s_.spec.annotations));
        pod_sandbox_ = pod_placement(o_.id, *s_.spec.annotations).role == PodRole::sandbox &&
                       ::geteuid() == 0; // members' files are bind-mounted in: root only
    }
    if (config::resolve_rootfs_mode(settings.rootfs, ::geteuid()) == config::RootfsMode::virtiofs) {
        if (::geteuid() != 0) {
            return Err(Error::with_errno(EPERM, "rootfs: virtiofs needs root (the bundle's "
                                                "rootfs is bind-mounted into the VM's share)"));
        }
        rootfs_shared_ = true;
        shares_.push_back(rootfs_share(absolute(o_.bundle, s_.spec.root->path)));
    }
    RUNVM_TRY(size_vm_from_spec(s_, settings, pod_sandbox_));
    {
        std::lock_guard lock(s_.mu);
        auto& r = s_.record;
        r.id = o_.id;
        r.bundle = o_.bundle;
        r.rootfs = absolute(o_.bundle, s_.spec.root->path);
        r.created = rfc3339_now();
        r.status = "creating";
        RUNVM_TRY(r.set_monitor_to_self());
        r.owner_uid = ::getuid();
        r.run_dir = s_.store.run_dir(o_.id);
        if (s_.spec.annotations) {
            r.annotations = *s_.spec.annotations;
        }
        s_.save_locked();
    }
    SandboxOptions so;
    so.id = o_.id;
    so.run_dir = s_.record.run_dir;
    so.settings = settings;
    so.rootfs_dir = rootfs_shared_ ? "" : s_.record.rootfs; // empty: no image, no blk device
    // Writable while the container's mounts are made, as runc's rootfs is: missing mount
    // points are created (in the image, a copy); the launcher then makes "/" read-only for
    // root.readonly, after the mounts, in runc's order.
    so.rootfs_readonly = false;
    so.shares = shares_;
    so.always_share = pod_sandbox_;
    so.netns_path = network_namespace_path(s_.spec);
    if (so.netns_path) {
        so.name_files = guest_name_files(s_.spec);
    }
    // 0711: a jail user may need to reach its VM's directory below.
    RUNVM_TRY(open_owned_dir(vm_base_dir(), 0711));
    RUNVM_TRY(join_host_cgroup(s_, o_, settings));
    RUNVM_ASSIGN_OR_RETURN(s_.sandbox, Sandbox::boot(so));
    if (s_.host_cgroup) {
        // The CPU quota once the VM has booted: the boot is runvm's, not the container's.
        RUNVM_TRY(s_.host_cgroup->set_cpu(host_cpu_limits(s_.spec)));
    }
    if (pod_sandbox_) {
        s_.pod_share_dir = s_.sandbox->share_dir();
    }
    if (auto created = create_container(); !created) {
        const std::string why = created.error().str();
        return Err(Error::msg(with_kept_logs(why, s_.sandbox->keep_logs(why))));
    }
    return Ok();
}

Result<void> Monitor::create_container() {
    RUNVM_ASSIGN_OR_RETURN(stdio_, host_stdio(o_, s_.spec));
    if (!o_.start_immediately) {
        RUNVM_TRY(release_caller_stdio());
    }
    const uint32_t port = s_.next_port.fetch_add(4);
    RUNVM_ASSIGN_OR_RETURN(init_bridge_,
                           StdioBridge::open(s_.sandbox->vsock_uds(), port, std::move(stdio_.fds),
                                             terminal_of(s_.spec)));
    agent::v1::CreateContainerRequest req;
    req.set_container_id(o_.id);
    req.set_oci_spec_json(oci::serialize_spec(guest_spec_));
    auto* rootfs = req.mutable_rootfs();
    if (rootfs_shared_) {
        rootfs->set_directory(kGuestRootfsDir); // mounted with the share (shared_fs below)
    } else {
        rootfs->set_block_device("/dev/vda");
        rootfs->set_fs_type("ext4");
    }
    rootfs->set_readonly(false); // root.readonly: the launcher's remount, after the mounts
    if (!shares_.empty() || pod_sandbox_) {
        req.mutable_shared_fs()->set_tag(kShareTag);
        req.mutable_shared_fs()->set_mount_point(kGuestShareDir);
    }
    set_stdio_ports(req.mutable_stdio(), init_bridge_->ports(), terminal_of(s_.spec));
    RUNVM_ASSIGN_OR_RETURN(const uint32_t guest_pid, s_.sandbox->agent().create_container(req));
    std::string hook_state;
    {
        std::lock_guard lock(s_.mu);
        s_.pod_guest_pid = guest_pid;
        s_.sandbox->timeline().mark("container created");
        save_created_locked();
        hook_state = s_.hook_state_locked();
    }
    // prestart and createRuntime run in the runtime's namespace after the container (here:
    // its VM) exists and before its process starts.
    RUNVM_TRY(oci::run_create_hooks(s_.spec.hooks, hook_state));
    return listen_for_control();
}

void Monitor::save_created_locked() {
    auto& r = s_.record;
    r.status = "created";
    r.hypervisor = s_.sandbox->hypervisor_name();
    r.guest_kernel = s_.sandbox->guest_kernel_release();
    r.timeline = s_.sandbox->timeline().to_json();
    s_.save_locked();
}

Result<void> Monitor::listen_for_control() {
    RUNVM_ASSIGN_OR_RETURN(listener_, listen_unix(s_.store.control_socket(o_.id), 16));
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe for control thread"));
    }
    stop_fd_[0] = UniqueFd(p[0]);
    stop_fd_[1] = UniqueFd(p[1]);
    control_thread_ = OwnedThread("monitor control", [this] { serve_control(); });
    return Ok();
}

Result<void> Monitor::create_pool_vm() {
    config::RuntimeConfig settings = o_.settings;
    s_.spec.oci_version = "1.0.2";
    RUNVM_TRY(size_vm_from_spec(s_, settings, false));
    {
        std::lock_guard lock(s_.mu);
        auto& r = s_.record;
        r.id = o_.id;
        r.created = rfc3339_now();
        r.status = "creating";
        RUNVM_TRY(r.set_monitor_to_self());
        r.owner_uid = ::getuid();
        r.run_dir = s_.store.run_dir(o_.id);
        r.annotations[kPoolKeyAnnotation] = o_.pool_key;
        s_.save_locked();
    }
    SandboxOptions so;
    so.id = o_.id;
    so.run_dir = s_.record.run_dir;
    so.settings = settings;
    so.always_share = true; // its container's rootfs comes through the share, as a member's
    so.pooled = true;
    so.spare_links = kPoolSpareLinks;
    so.template_key = vm_template_key(settings); // used on runvm-vmm
    RUNVM_TRY(open_owned_dir(vm_base_dir(), 0711));
    RUNVM_TRY(join_host_cgroup(s_, o_, settings));
    auto booted = Sandbox::boot(so);
    if (!booted && vm_template_saved(settings.template_dir, so.template_key)) {
        // A template that does not restore (corrupt, or from another host's CPU) is dropped
        // and this VM boots; its boot saves a new one.
        spdlog::warn("pooled VM {}: its template did not restore ({}); removed, booting", o_.id,
                     booted.error().str());
        remove_vm_templates(settings.template_dir, so.template_key);
        booted = Sandbox::boot(so);
    }
    if (booted && (*booted)->saved_template()) {
        // The VM that saved the template zeroed all its RAM as it booted (init_on_free): it
        // gives way to one restored from the template, which holds what the template does.
        spdlog::info("pooled VM {}: saved template {} ({}); restoring a VM from it", o_.id,
                     so.template_key, (*booted)->timeline().str());
        booted->reset();
        booted = Sandbox::boot(so);
        if (!booted) {
            spdlog::warn("pooled VM {}: the template it saved did not restore ({}); removed, "
                         "booting",
                         o_.id, booted.error().str());
            remove_vm_templates(settings.template_dir, so.template_key);
            so.template_key.clear();
            booted = Sandbox::boot(so);
        }
    }
    RUNVM_ASSIGN_OR_RETURN(s_.sandbox, std::move(booted));
    s_.pod_share_dir = s_.sandbox->share_dir();
    RUNVM_TRY(listen_for_control());
    {
        std::lock_guard lock(s_.mu);
        save_created_locked();
    }
    const std::string ready = pool_ready_mark(s_.store, o_.id);
    if (!UniqueFd(::open(ready.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))) {
        return Err(Error::from_errno("create " + ready));
    }
    // What its boot logged is read once `template build` returns; the VM may then wait
    // for a container for minutes with nothing to flush the log.
    spdlog::default_logger()->flush();
    return Ok();
}

int Monitor::run_pool() {
    discard_ = true; // nobody deletes a pooled VM: its state goes with it
    const auto now = [] { return std::chrono::steady_clock::now(); };
    const auto idle_until = now() + std::chrono::seconds(o_.settings.pool_idle_seconds);
    std::optional<std::chrono::steady_clock::time_point> claimed_at;
    for (;;) {
        {
            std::unique_lock lock(s_.mu);
            const auto ended = [this] {
                return s_.delete_requested || (s_.members_added > 0 && s_.members.empty());
            };
            if (s_.cv.wait_for(lock, 100ms, ended)) {
                return 0;
            }
            if (s_.members_added > 0) {
                continue; // its container runs
            }
        }
        if (::access(s_.store.dir(o_.id).c_str(), F_OK) != 0 && errno == ENOENT) {
            // Its --root went (a test's temporary root, removed): nobody can claim it now.
            spdlog::info("pooled VM {}: its state directory is gone, shutting down", o_.id);
            return 0;
        }
        if (!claimed_at) {
            if (::access(pool_claim_mark(s_.store, o_.id).c_str(), F_OK) == 0) {
                claimed_at = now();
            } else if (now() > idle_until) {
                if (auto mine = take_pool_claim(s_.store, o_.id); !mine || *mine) {
                    spdlog::info("pooled VM {}: unclaimed for {} s, shutting down", o_.id,
                                 o_.settings.pool_idle_seconds);
                    return 0;
                }
                claimed_at = now();
            }
        } else if (now() - *claimed_at > 60s) {
            spdlog::warn("pooled VM {}: claimed 60 s ago and no container came", o_.id);
            return 0;
        }
        if (auto alive = s_.sandbox->check_alive(); !alive) {
            spdlog::error("pooled VM {}: {}{}", o_.id, alive.error().str(),
                          s_.sandbox->guest_report());
            // Taken so that no container claims a dead VM meanwhile.
            (void)take_pool_claim(s_.store, o_.id);
            return kCreateFailed;
        }
    }
}

void Monitor::serve_control() {
    for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd_[0].get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents) {
            return;
        }
        auto conn = accept_unix(listener_.get(), false, "monitor control socket");
        if (!conn || !conn->valid()) {
            continue;
        }
        // A connection may wait on an exec; the sandbox's shutdown in teardown ends that wait.
        connections_.emplace_back(
            "monitor control connection",
            // Shared: a thread body is a std::function, which must be copyable.
            [this, fd = std::make_shared<UniqueFd>(std::move(*conn))] {
                serve_control_connection(s_, ControlChannel(std::move(*fd)));
            },
            ThreadOptions{.wake = {}, .stop_timeout = std::chrono::seconds(60)});
    }
}

void Monitor::watch_tty() {
    if (!stdio_.tty) {
        return;
    }
    auto size = window_size(stdio_.tty.get());
    if (size && size != last_size_ && size->rows > 0) {
        last_size_ = size;
        auto r = s_.sandbox->agent().resize_tty(o_.id, "", size->cols, size->rows);
        if (!r) {
            spdlog::debug("resize: {}", r.error().str());
        }
    }
}

int Monitor::run() {
    // Phase 1: created, until start, delete or the VM's death.
    for (;;) {
        std::unique_lock lock(s_.mu);
        s_.cv.wait_for(lock, 100ms, [this] { return s_.start_requested || s_.delete_requested; });
        if (s_.start_requested || s_.delete_requested) {
            break;
        }
        lock.unlock();
        if (auto alive = s_.sandbox->check_alive(); !alive) {
            const std::string why = alive.error().str() + s_.sandbox->guest_report();
            std::lock_guard relock(s_.mu);
            s_.record.error = with_kept_logs(why, s_.sandbox->keep_logs(why));
            s_.record.exit_status = kCreateFailed;
            return kCreateFailed;
        }
    }
    if (s_.delete_requested && !s_.start_requested) {
        std::lock_guard lock(s_.mu);
        s_.record.exit_status = 128 + SIGKILL;
        return 128 + SIGKILL;
    }
    // Phase 2: running; the waiter blocks in WaitProcess, this thread watches the VM.
    std::atomic<bool> done{false};
    std::optional<int> status;
    bool oom_killed = false;
    std::string wait_error;
    OwnedThread waiter("container waiter", [&] {
        auto r = s_.sandbox->agent().wait_process(o_.id, "");
        if (r) {
            status = static_cast<int>(r->exit_status());
            oom_killed = r->oom_killed();
        } else {
            wait_error = r.error().str();
        }
        {
            std::lock_guard lock(s_.mu); // else the wake-up can fall between check and wait
            done = true;
        }
        s_.cv.notify_all();
    });
    std::string vm_error;
    while (!done) {
        {
            std::unique_lock lock(s_.mu);
            s_.cv.wait_for(lock, 100ms, [&] { return done.load(); });
        }
        if (done) {
            break;
        }
        watch_tty();
        if (auto alive = s_.sandbox->check_alive(); !alive) {
            vm_error = alive.error().str() + s_.sandbox->guest_report();
            s_.sandbox->agent().close(); // fails the pending WaitProcess
        }
    }
    waiter.stop_and_join();
    spdlog::debug("container {}: wait returned ({})", o_.id,
                  status ? std::to_string(*status) : wait_error);
    // A lost agent connection is most often a dead broker or hypervisor (the broker holds
    // the vsock connection): name that, once its exit is visible (bounded).
    for (int i = 0; !status && vm_error.empty() && i < 20; ++i) {
        if (auto alive = s_.sandbox->check_alive(); !alive) {
            vm_error = alive.error().str() + s_.sandbox->guest_report();
        } else {
            std::this_thread::sleep_for(50ms);
        }
    }
    if (init_bridge_) {
        init_bridge_->wait_output_done(2s);
        spdlog::debug("container {}: output drained", o_.id);
    }
    if (!vm_error.empty()) {
        vm_error = with_kept_logs(vm_error, s_.sandbox->keep_logs(vm_error));
    }
    std::lock_guard lock(s_.mu);
    if (!status) {
        s_.record.error = vm_error.empty() ? wait_error : vm_error;
        spdlog::error("container {}: {}", o_.id, s_.record.error);
        status = 128 + SIGKILL;
    }
    s_.record.exit_status = *status;
    s_.record.oom_killed = oom_killed;
    return *status;
}

void Monitor::teardown() {
    if (stop_fd_[1]) {
        const char c = 'x';
        [[maybe_unused]] ssize_t n = ::write(stop_fd_[1].get(), &c, 1);
    }
    control_thread_.stop_and_join();
    if (listener_) { // only the socket this monitor made: never another create's
        listener_.reset();
        ::unlink(s_.store.control_socket(o_.id).c_str());
    }
    init_bridge_.reset();
    {
        std::lock_guard lock(s_.mu);
        s_.closing = true; // pod members not started yet end now
    }
    s_.cv.notify_all();
    if (s_.sandbox) {
        s_.sandbox->shutdown(); // closes the agent: pending exec and member waits fail
    }
    for (auto& t : connections_) {
        t.stop_and_join();
    }
    connections_.clear();
    if (!s_.pod_share_dir.empty()) {
        // Members that were still there removed their mount points only now (the VM and
        // its broker's mounts are gone): the share dir and VM dir go after them.
        const std::string vm_dir = s_.record.run_dir;
        for (const std::string& dir : {s_.pod_share_dir, vm_dir}) {
            if (auto r = release_host_shares(dir); !r) {
                spdlog::warn("pod {}: {}", o_.id, r.error().str());
            }
        }
    }
    s_.sandbox.reset();
    if (s_.host_cgroup) { // the VM's processes are gone: the monitor leaves last
        if (auto r = s_.host_cgroup->leave_and_remove(::getpid()); !r) {
            spdlog::warn("container {}: host cgroup: {}", o_.id, r.error().str());
        }
        s_.host_cgroup.reset();
    }
    if (discard_) {
        (void)s_.store.remove(o_.id);
    } else {
        std::lock_guard lock(s_.mu);
        s_.record.status = "stopped";
        if (!s_.record.exit_status) {
            s_.record.exit_status = kCreateFailed;
        }
        s_.save_locked();
    }
}

} // namespace

void MonitorState::save_locked() {
    if (auto r = store.save(record); !r) {
        spdlog::warn("save state of {}: {}", record.id, r.error().str());
    }
}

std::string oci_hook_state(const ContainerRecord& record, const std::string& oci_version) {
    json j = {{"ociVersion", oci_version},
              {"id", record.id},
              {"status", record.status},
              {"pid", record.monitor_pid},
              {"bundle", record.bundle}};
    if (!record.annotations.empty()) {
        j["annotations"] = record.annotations;
    }
    return j.dump();
}

std::string MonitorState::hook_state_locked() const {
    return oci_hook_state(record, spec.oci_version);
}

int run_pool_monitor(const MonitorOptions& options) {
    std::string failure;
    int status = kCreateFailed;
    // It outlives whoever built it: a shell reading `runvm template build`'s output must not
    // wait for it. Its log goes where --log sends it, else nowhere.
    if (auto r = release_caller_stdio(); !r) {
        spdlog::warn("pooled VM {}: {}", options.id, r.error().str());
    }
    {
        Monitor m(options);
        if (auto created = m.create_pool_vm(); !created) {
            failure = created.error().str();
            m.discard();
        } else {
            report_ready(options.ready_fd, "ok\n");
            status = m.run_pool();
        }
    }
    if (!failure.empty()) {
        report_create_failure(options.ready_fd, options.id, failure, nullptr);
    }
    return status;
}

int run_monitor(const MonitorOptions& options, std::string* create_error) {
    ::signal(SIGPIPE, SIG_IGN);
    if (!options.pool_key.empty()) {
        return run_pool_monitor(options);
    }
    if (auto spec = oci::load_spec(options.bundle + "/config.json")) {
        // A pod's app container boots no VM: a light process joins it to its pod's.
        if (spec->annotations) {
            if (auto p = pod_placement(options.id, *spec->annotations); p.role == PodRole::member) {
                return run_member(options, *spec, p.sandbox_id, create_error);
            }
        }
        // Nor does a container that takes a pooled VM (vm_pool.hpp); with none to take, or
        // when taking one fails, it boots its own below.
        if (auto status = run_in_pooled_vm(options, *spec, create_error)) {
            return *status;
        }
    }
    std::string failure;
    int status = kCreateFailed;
    {
        Monitor m(options);
        auto created = m.create();
        if (created && !options.pid_file.empty()) {
            created = write_file_atomic(options.pid_file, std::to_string(::getpid()), 0644);
        }
        if (!created) {
            failure = created.error().str();
            m.discard();
        } else {
            report_ready(options.ready_fd, "ok\n");
            auto started = Result<nlohmann::json>(nlohmann::json::object());
            if (options.start_immediately) {
                started = control_call(ContainerStore(options.root).control_socket(options.id),
                                       {{"op", "start"}}, 60s);
            }
            if (started) {
                status = m.run();
            } else {
                spdlog::error("start {}: {}", options.id, started.error().str());
            }
        }
    } // teardown: the VM, its processes, sockets and image are gone past this point
    if (!failure.empty()) {
        report_create_failure(options.ready_fd, options.id, failure, create_error);
    }
    return status;
}

} // namespace runvm::shim
