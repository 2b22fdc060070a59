// The pod member's process: state record, detached mounts of its rootfs and bind sources,
// add_container to the pod monitor, then a wait for the container's end.
#include "shim/container/member_process.hpp"

#include <algorithm>
#include <csignal>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/text.hpp"
#include "oci/hooks_runner.hpp"
#include "oci/spec_json.hpp"
#include "oci/validate.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/create_handshake.hpp"
#include "shim/container/host_cgroup.hpp"
#include "shim/container/host_stdio.hpp"
#include "shim/container/monitor.hpp"
#include "shim/container/monitor_state.hpp"
#include "shim/container/pod.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/network/netns.hpp"
#include "shim/network/plumbing.hpp"
#include "shim/sandbox/guest_spec.hpp"
#include "shim/sandbox/mount_namespace.hpp"
#include "shim/sandbox/sandbox_network.hpp"

namespace runvm::shim {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Member {
public:
    // pooled: the VM is a pooled one (vm_pool.hpp): the container's host cgroup takes its
    // processes, and the container ends when the VM is gone, as one of its own would.
    Member(const MonitorOptions& o, const oci::Spec& spec, std::string sandbox_id,
           bool pooled = false)
        : o_(o), spec_(spec), sandbox_id_(std::move(sandbox_id)), store_(o.root), pooled_(pooled) {}

    // A pooled VM's container's network namespace, plumbed before the claim: its taps go to
    // the VM's spare links; its plumbing is undone when the member ends.
    void use_network(SandboxNetwork network) { network_.emplace(std::move(network)); }
    Result<void> create();
    int wait();
    Result<void> join_pooled_vm_cgroup(const ContainerRecord& vm);
    void discard();
    // Whether a failed create left the caller's stdio as it was, so that another create
    // (a VM of its own, after a pooled VM failed) can still take it: nothing went to the
    // console socket.
    bool stdio_untouched() const { return !console_sent_; }
    // Whether a prestart or createRuntime hook failed the create.
    bool hooks_failed() const { return hooks_failed_; }
    // Pooled: back to the cgroup it came from, and the container's cgroup removed (once the
    // VM's processes are gone from it).
    void leave_cgroup();

private:
    const MonitorOptions& o_;
    const oci::Spec& spec_;
    std::string sandbox_id_;
    ContainerStore store_;
    ContainerRecord record_;
    HostStdio stdio_;
    bool console_sent_ = false;
    bool hooks_failed_ = false;
    std::optional<ControlChannel> channel_;
    bool pooled_ = false;
    std::optional<ProcessHandle> vm_monitor_; // pooled: the VM's monitor
    std::optional<HostCgroup> cgroup_;        // pooled: the container's, which it joined
    std::optional<SandboxNetwork> network_;   // pooled: the container's network namespace
    // The phases the pod monitor records for it count from here (BootTimeline).
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The container's host cgroup (linux.cgroupsPath, else runc's default for its id), as a
// VM of its own would have joined at boot: the pooled VM's processes move there, out of
// the cgroup the VM was booted in. Recorded first, so delete removes it whatever happens.
Result<void> Member::join_pooled_vm_cgroup(const ContainerRecord& vm) {
    const auto& linux = spec_.linux;
    RUNVM_ASSIGN_OR_RETURN(
        const CgroupPlacement placement,
        resolve_cgroups_path(linux ? linux->cgroups_path : std::nullopt, o_.systemd_cgroup, o_.id));
    RUNVM_ASSIGN_OR_RETURN(const CgroupLayout layout, read_cgroup_layout());
    RUNVM_ASSIGN_OR_RETURN(HostCgroup cgroup, HostCgroup::create(layout, placement));
    record_.host_cgroups = cgroup.made();
    RUNVM_TRY(store_.save(record_));
    cgroup_.emplace(std::move(cgroup));
    RUNVM_TRY(cgroup_->adopt_processes_of(vm.host_cgroups));
    return cgroup_->add_process(::getpid()); // the --pid-file process, as a monitor is
}

Result<void> Member::create() {
    if (::geteuid() != 0) {
        return Err(Error::with_errno(EPERM, "pod member " + o_.id +
                                                ": needs root (its rootfs is bind-mounted into "
                                                "the pod VM's share)"));
    }
    RUNVM_TRY(oci::validate(spec_));
    if (!spec_.root || spec_.root->path.empty()) {
        return Err(Error::msg("config.json: root.path is required"));
    }
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord pod, store_.load(sandbox_id_));
    // The pod's namespaces are named after its sandbox container's pid (its pid-file process).
    const int pod_pid = pod.monitor_pid;
    // A pod sandbox that took a pooled VM is itself a member of it: that VM is the pod's.
    if (!pooled_ && !pod.pod_sandbox.empty()) {
        if (effective_status(pod) == "stopped") {
            return Err(Error::with_errno(ESRCH, "pod sandbox " + sandbox_id_ + " of container " +
                                                    o_.id + " is not running"));
        }
        sandbox_id_ = pod.pod_sandbox;
        RUNVM_ASSIGN_OR_RETURN(pod, store_.load(sandbox_id_));
    }
    auto pod_monitor = pod.monitor();
    if (effective_status(pod) == "stopped" || !pod_monitor) {
        return Err(Error::with_errno(ESRCH, "pod sandbox " + sandbox_id_ + " of container " +
                                                o_.id + " is not running"));
    }
    if (pooled_) {
        vm_monitor_.emplace(std::move(*pod_monitor));
    }
    const std::string rootfs = absolute(o_.bundle, spec_.root->path);
    std::vector<std::string> notes;
    std::vector<HostShare> shares;
    RUNVM_ASSIGN_OR_RETURN(oci::Spec gspec, guest_spec(spec_, rootfs, &notes, &shares));
    relocate_member_sources(gspec, o_.id, shares);
    // These stay shared with the sandbox: the pod monitor points them at its namespaces in
    // the guest, not at new ones as guest_spec() noted.
    const std::vector<std::string> pod_namespaces = sandbox_namespaces(spec_, pod_pid);
    for (const auto& n : notes) {
        const bool joined =
            std::any_of(pod_namespaces.begin(), pod_namespaces.end(), [&n](const std::string& t) {
                return n.rfind("namespace " + t + " ", 0) == 0;
            });
        if (!joined) {
            spdlog::info("container {}: {}", o_.id, n);
        }
    }
    record_.id = o_.id;
    record_.bundle = o_.bundle;
    record_.rootfs = rootfs;
    record_.created = rfc3339_now();
    record_.status = "creating";
    RUNVM_TRY(record_.set_monitor_to_self());
    record_.owner_uid = ::getuid();
    record_.pod_sandbox = sandbox_id_;
    if (spec_.annotations) {
        record_.annotations = *spec_.annotations;
    }
    RUNVM_TRY(store_.save(record_));
    if (pooled_) {
        RUNVM_TRY(join_pooled_vm_cgroup(pod));
    }

    // The trees are detached copies of the host's mounts: the pod monitor attaches them in
    // its broker's mount namespace; nothing of them shows in the host's.
    std::vector<UniqueFd> trees;
    json mounts = json::array();
    RUNVM_ASSIGN_OR_RETURN(UniqueFd root_tree, clone_mount_tree(rootfs, true, false));
    trees.push_back(std::move(root_tree));
    mounts.push_back({{"name", kRootfsShareName}, {"directory", true}});
    for (const auto& s : shares) {
        RUNVM_ASSIGN_OR_RETURN(UniqueFd tree, clone_mount_tree(s.source, s.recursive, s.readonly));
        trees.push_back(std::move(tree));
        mounts.push_back({{"name", s.name}, {"directory", s.directory}});
    }
    console_sent_ = terminal_of(spec_) && !o_.console_socket.empty();
    RUNVM_ASSIGN_OR_RETURN(stdio_, host_stdio(o_, spec_));
    std::vector<int> fds;
    std::vector<bool> want;
    for (const UniqueFd* f : {&stdio_.fds.in, &stdio_.fds.out, &stdio_.fds.err}) {
        want.push_back(static_cast<bool>(*f));
        if (*f) {
            fds.push_back(f->get());
        }
    }
    for (const auto& t : trees) {
        fds.push_back(t.get());
    }
    if (network_) {
        for (const auto& tap : network_->tap_fds()) {
            fds.push_back(tap.get());
        }
    }
    json req = {{"op", "add_container"},
                {"container", o_.id},
                {"spec", oci::serialize_spec(gspec)},
                {"terminal", terminal_of(spec_)},
                {"stdio", want},
                {"mounts", mounts},
                {"pod_namespaces", pod_namespaces},
                {"timeline_start_ns",
                 static_cast<uint64_t>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch())
                         .count())}};
    if (cgroup_) { // a pooled VM's container: its updates go to its own cgroup
        req["host_cgroup_dirs"] = cgroup_->dirs();
    }
    if (network_) {
        const auto request = network_request(network_->interfaces(), guest_name_files(spec_));
        req["network"] = {{"request", hex_encode(request.SerializeAsString())},
                          {"taps", network_->tap_fds().size()}};
    }
    RUNVM_ASSIGN_OR_RETURN(ControlChannel ch,
                           ControlChannel::connect(store_.control_socket(sandbox_id_), 10s));
    RUNVM_TRY(ch.send(req, fds));
    // The pod monitor has its own copies now; ours close with the trees and stdio_.
    RUNVM_ASSIGN_OR_RETURN(ControlMessage reply, ch.receive(60s));
    if (reply.body.contains("error")) {
        return Err(Error::msg(reply.body["error"].get<std::string>()));
    }
    if (network_) {
        network_->tap_fds().clear(); // the broker holds them: the taps now go with it
    }
    // prestart and createRuntime run in the runtime's namespace once the container exists in
    // its VM, as for a VM's own container (monitor.cpp); poststart is the VM monitor's.
    if (spec_.hooks) {
        record_.status = "created";
        auto ran = oci::run_create_hooks(spec_.hooks, oci_hook_state(record_, spec_.oci_version));
        if (!ran) {
            hooks_failed_ = true;
            return ran;
        }
    }
    // Only now: until the container exists, a failed create leaves the caller's stdio as it
    // was (stdio_untouched).
    if (!o_.start_immediately) {
        RUNVM_TRY(release_caller_stdio());
    }
    stdio_.fds = StdioFds{};
    channel_.emplace(std::move(ch));
    return Ok();
}

int Member::wait() {
    // No deadline: the container runs as long as it likes; the pod monitor's exit closes
    // the connection.
    auto done = channel_->receive(0ms);
    if (vm_monitor_ && !vm_monitor_->wait_exit_until(std::chrono::steady_clock::now() + 20s)) {
        spdlog::warn("container {}: pooled VM {} still going down after 20 s", o_.id, sandbox_id_);
    }
    leave_cgroup(); // as a monitor leaves its container's cgroup once its VM is gone
    if (done && done->body.contains("exit_status")) {
        return done->body["exit_status"].get<int>();
    }
    // The pod went down under it: the record says why.
    const std::string why = done ? done->body.value("error", std::string("no exit status"))
                                 : "pod " + sandbox_id_ + " ended: " + done.error().str();
    spdlog::error("container {}: {}", o_.id, why);
    if (auto r = store_.load(o_.id)) {
        r->status = "stopped";
        r->exit_status = 128 + SIGKILL;
        r->error = why;
        (void)store_.save(*r);
    }
    return 128 + SIGKILL;
}

void Member::leave_cgroup() {
    if (cgroup_) {
        const std::vector<std::string> made = cgroup_->made();
        if (auto r = cgroup_->leave_and_remove(::getpid()); !r) {
            // The VM's last processes may still be exiting: removal retries a while.
            remove_cgroup_dirs(made);
        }
        cgroup_.reset();
    }
}

void Member::discard() {
    (void)store_.remove(o_.id); // run_monitor's caller claimed the id for this create
}

Result<void> create_member(Member& m, const MonitorOptions& options) {
    RUNVM_TRY(m.create());
    if (!options.pid_file.empty()) {
        RUNVM_TRY(write_file_atomic(options.pid_file, std::to_string(::getpid()), 0644));
    }
    return Ok();
}

// Once created: reported, started for `runvm run`, and waited for.
int run_created_member(Member& m, const MonitorOptions& options) {
    report_ready(options.ready_fd, "ok\n");
    if (options.start_immediately) {
        if (auto r = start_container(options.root, options.id); !r) {
            spdlog::error("start {}: {}", options.id, r.error().str());
            (void)delete_container(options.root, options.id, true);
            return kCreateFailed;
        }
    }
    return m.wait();
}

// How many interfaces a VM would get from the network namespace at `path` (plumb's count);
// nullopt when it cannot be read or is the host's own (refused).
std::optional<size_t> interface_count(const std::string& path) {
    auto fd = network::open_netns(path);
    if (!fd || !network::refuse_host_netns(fd->get())) {
        return std::nullopt; // the VM of its own says why
    }
    auto interfaces = network::describe(fd->get(), kSandboxTapPrefix);
    return interfaces ? std::optional<size_t>(interfaces->size()) : std::nullopt;
}

// `runvm template build --refill` (shim/cli/template.cpp) puts a VM back for the next
// container: it hands the work to a child of its own and exits at once, and is reaped here;
// the child is init's (or the caller's subreaper's).
class PoolRefill {
public:
    explicit PoolRefill(const std::string& root) {
        SpawnOptions so;
        so.die_with_parent = false;
        so.stdin_null = true;
        so.stdout_path = "/dev/null";
        so.stderr_path = "/dev/null";
        auto child = ChildProcess::spawn(
            {"/proc/self/exe", "--root", root, "template", "build", "--refill"}, so);
        if (!child) {
            spdlog::warn("VM pool: refill: {}", child.error().str());
            return;
        }
        child_ = std::move(*child);
    }
    ~PoolRefill() {
        if (child_.running()) {
            if (auto done = child_.wait_until(std::chrono::steady_clock::now() + 5s);
                !done || !*done) {
                spdlog::warn("VM pool: refill {} did not exit within 5 s", child_.pid());
                (void)child_.release();
            }
        }
    }
    PoolRefill(const PoolRefill&) = delete;
    PoolRefill& operator=(const PoolRefill&) = delete;

private:
    ChildProcess child_;
};

} // namespace

int run_member(const MonitorOptions& options, const oci::Spec& spec, const std::string& sandbox_id,
               std::string* create_error) {
    Member m(options, spec, sandbox_id);
    if (auto created = create_member(m, options); !created) {
        m.discard();
        report_create_failure(options.ready_fd, options.id, created.error().str(), create_error);
        return kCreateFailed;
    }
    return run_created_member(m, options);
}

std::optional<int> run_in_pooled_vm(const MonitorOptions& options, const oci::Spec& spec,
                                    std::string* create_error) {
    if (auto why = pool_refusal(spec, options.id, options.settings, ::geteuid())) {
        spdlog::debug("container {}: boots a VM of its own: {}", options.id, *why);
        return std::nullopt;
    }
    // A network namespace to join: its interfaces take the VM's spare links, so one with
    // more boots its own.
    const auto netns = network_namespace_path(spec);
    if (netns) {
        const auto count = interface_count(*netns);
        if (!count || *count > kPoolSpareLinks) {
            spdlog::debug("container {}: boots a VM of its own: network namespace {}: {}",
                          options.id, *netns,
                          count ? std::to_string(*count) + " interfaces" : "unreadable");
            return std::nullopt;
        }
    }
    ContainerStore store(options.root);
    const auto vm = claim_pool_vm(store, pool_key(options.settings));
    // Whether one was taken or none was ready, the pool is topped up for the next container.
    PoolRefill refill(options.root);
    if (!vm) {
        spdlog::debug("container {}: no pooled VM is ready; booting one", options.id);
        return std::nullopt;
    }
    Member m(options, spec, *vm, true);
    Result<void> created = Ok();
    if (netns) {
        auto plumbed = SandboxNetwork::plumb(*netns);
        if (plumbed) {
            m.use_network(std::move(plumbed).value());
        } else {
            created = Err(std::move(plumbed).error());
        }
    }
    if (created) {
        created = create_member(m, options);
    }
    if (created) {
        spdlog::debug("container {}: runs in pooled VM {}", options.id, *vm);
        return run_created_member(m, options);
    }
    m.discard();
    // The VM it took is broken: it goes now (its processes may be in the cgroup made above,
    // which must be empty before it is removed for the VM of its own to make it again).
    for (const auto& e : list_pool(store)) {
        if (e.id == *vm) {
            if (auto r = remove_pooled_vm(options.root, e); !r) {
                spdlog::debug("container {}: remove pooled VM {}: {}", options.id, *vm,
                              r.error().str());
            }
        }
    }
    m.leave_cgroup();
    // A pool problem never fails a container that can still boot a VM of its own. A hook
    // that failed is not a pool problem: a VM of its own would run it again (runc runs a
    // hook once), so its failure is the create's.
    if (m.stdio_untouched() && !m.hooks_failed()) {
        spdlog::warn("container {}: pooled VM {}: {}; booting a VM of its own", options.id, *vm,
                     created.error().str());
        if (auto again = store.create_dir(options.id); again) {
            return std::nullopt;
        }
    }
    report_create_failure(options.ready_fd, options.id, created.error().str(), create_error);
    return kCreateFailed;
}

} // namespace runvm::shim
