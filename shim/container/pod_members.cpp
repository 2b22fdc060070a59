// The pod monitor's side of pod members: their files attached to the pod's share (in the
// broker's mount namespace), their container created in the VM, and their end reported to
// the member's process over the connection that added them.
#include <algorithm>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/text.hpp"
#include "oci/spec_json.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/monitor_state.hpp"
#include "shim/container/pod.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/sandbox/mount_namespace.hpp"
#include "shim/sandbox/stdio_bridge.hpp"

namespace runvm::shim {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The member's directory in the pod's share and what is attached there; release() (also
// on drop) detaches it in the broker's namespace and removes the mount points.
class MemberFiles {
public:
    MemberFiles(std::string share_dir, std::string id, pid_t broker)
        : containers_(share_dir + "/" + kPodMembersShareName),
          dir_(member_share_dir(share_dir, id)), broker_(broker) {}
    ~MemberFiles() { release(); }
    MemberFiles(const MemberFiles&) = delete;
    MemberFiles& operator=(const MemberFiles&) = delete;

    Result<void> make_mount_points(const std::vector<MemberMount>& mounts) {
        if (::mkdir(containers_.c_str(), 0700) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + containers_));
        }
        if (::mkdir(dir_.c_str(), 0700) != 0) {
            return Err(Error::from_errno("mkdir pod member dir " + dir_));
        }
        made_dir_ = true;
        for (const auto& m : mounts) {
            const std::string target = dir_ + "/" + m.name;
            if (m.directory ? ::mkdir(target.c_str(), 0700) != 0
                            : !UniqueFd(::open(target.c_str(),
                                               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                                               0600))) {
                return Err(Error::from_errno("create mount point " + target));
            }
            targets_.push_back(target);
        }
        return Ok();
    }

    Result<void> attach(std::vector<UniqueFd>::iterator trees) {
        std::vector<TreeAttachment> list;
        for (const auto& t : targets_) {
            list.push_back({(trees++)->get(), t});
        }
        attached_ = true; // a partial attach is undone by release() as well
        return attach_in_mount_namespace(broker_, list);
    }

    void release() {
        if (attached_ && process_alive(broker_)) {
            if (auto r = detach_in_mount_namespace(broker_, targets_); !r) {
                spdlog::warn("pod member {}: {}", dir_, r.error().str());
            }
        }
        attached_ = false;
        for (const auto& t : targets_) {
            if (::unlink(t.c_str()) != 0 && (errno != EISDIR || ::rmdir(t.c_str()) != 0) &&
                errno != ENOENT) {
                spdlog::warn("pod member: remove mount point {}: {}", t, std::strerror(errno));
            }
        }
        targets_.clear();
        if (made_dir_ && ::rmdir(dir_.c_str()) != 0) {
            spdlog::warn("pod member: rmdir {}: {}", dir_, std::strerror(errno));
        }
        made_dir_ = false;
        // containers/ stays for the pod's life (the share's teardown removes it): the guest
        // keeps its dentry, and a directory made again at that name is another inode that the
        // guest never looks up, so the next member's rootfs would not be found.
    }

private:
    std::string containers_;
    std::string dir_;
    pid_t broker_;
    std::vector<std::string> targets_;
    bool made_dir_ = false;
    bool attached_ = false;
};

struct AddRequest {
    std::string id;
    std::string spec_json; // as the member sent it; the agent gets it unchanged outside pods
    oci::Spec spec;
    bool terminal = false;
    std::vector<bool> stdio;
    std::vector<MemberMount> mounts;
    std::vector<std::string> pod_namespaces; // joined with the sandbox's (pod.hpp)
    // Its create's start, CLOCK_MONOTONIC: the member's phases are timed from there.
    std::optional<BootTimeline::Clock::time_point> timeline_start;
    std::vector<std::string> host_cgroup_dirs; // a pooled VM's container's (PodMember)
    // A pooled VM's container's network namespace, plumbed by its create: the guest's
    // ConfigureNetworkRequest and one tap fd per interface, after the mount trees' fds.
    std::optional<agent::v1::ConfigureNetworkRequest> network;
    size_t taps = 0;
};

constexpr size_t kMaxNetworkRequestBytes = 1 << 20;

// body["network"]: absent, or {"request": <hex of a ConfigureNetworkRequest>, "taps": n}.
Result<void> parse_network(const json& body, AddRequest& a) {
    if (!body.contains("network")) {
        return Ok();
    }
    const auto& n = body["network"];
    const std::string what = "add_container " + a.id + ": network";
    if (!n.is_object() || !n.contains("request") || !n["request"].is_string() ||
        !n.contains("taps") || !n["taps"].is_number_unsigned() || n["taps"].get<uint64_t>() > 16) {
        return Err(Error::with_errno(EINVAL, what + ": not {\"request\": hex, \"taps\": 0..16}"));
    }
    const auto& hex = n["request"].get_ref<const std::string&>();
    const auto bytes = hex.size() <= 2 * kMaxNetworkRequestBytes ? hex_decode(hex) : std::nullopt;
    agent::v1::ConfigureNetworkRequest request;
    if (!bytes || !request.ParseFromString(*bytes)) {
        return Err(Error::with_errno(EINVAL, what + ": request is not a ConfigureNetworkRequest "
                                                    "in hex of at most 1 MiB"));
    }
    a.network = std::move(request);
    a.taps = n["taps"].get<size_t>();
    return Ok();
}

// body[key]: absent (empty), or a list of at most `max` strings.
Result<std::vector<std::string>> string_list(const json& body, const char* key, size_t max,
                                             const std::string& what) {
    if (!body.contains(key)) {
        return std::vector<std::string>{};
    }
    const auto& list = body[key];
    if (!list.is_array() || list.size() > max ||
        !std::all_of(list.begin(), list.end(), [](const json& e) { return e.is_string(); })) {
        return Err(Error::with_errno(EINVAL, what + ": " + key + ": not a list of at most " +
                                                 std::to_string(max) + " strings"));
    }
    return list.get<std::vector<std::string>>();
}

Result<AddRequest> parse_add(const json& body, size_t fd_count) {
    AddRequest a;
    a.id = body.value("container", std::string());
    RUNVM_TRY(validate_container_id(a.id));
    if (!body.contains("spec") || !body["spec"].is_string()) {
        return Err(Error::with_errno(EINVAL, "add_container " + a.id + ": no spec"));
    }
    a.spec_json = body["spec"].get<std::string>();
    auto spec = oci::parse_spec(a.spec_json);
    if (!spec) {
        return Err(std::move(spec).error().context("add_container " + a.id + ": spec"));
    }
    a.spec = std::move(spec).value();
    a.terminal = body.value("terminal", false);
    a.stdio = body.value("stdio", std::vector<bool>{});
    RUNVM_ASSIGN_OR_RETURN(a.mounts, parse_member_mounts(body.value("mounts", json::array())));
    RUNVM_ASSIGN_OR_RETURN(a.pod_namespaces,
                           string_list(body, "pod_namespaces", 3, "add_container " + a.id));
    if (body.contains("timeline_start_ns")) {
        const auto& ns = body["timeline_start_ns"];
        const auto now = BootTimeline::Clock::now();
        const auto start = BootTimeline::Clock::time_point(
            std::chrono::nanoseconds(ns.is_number_unsigned() ? ns.get<uint64_t>() : 0));
        if (!ns.is_number_unsigned() || start > now || now - start > std::chrono::hours(1)) {
            return Err(Error::with_errno(EINVAL, "add_container " + a.id +
                                                     ": timeline_start_ns: not a monotonic "
                                                     "time of the last hour"));
        }
        a.timeline_start = start;
    }
    RUNVM_ASSIGN_OR_RETURN(a.host_cgroup_dirs,
                           string_list(body, "host_cgroup_dirs", 32, "add_container " + a.id));
    RUNVM_TRY(parse_network(body, a));
    size_t wanted = a.mounts.size() + a.taps;
    for (size_t i = 0; i < a.stdio.size() && i < 3; ++i) {
        wanted += a.stdio[i] ? 1 : 0;
    }
    if (a.stdio.size() > 3 || fd_count != wanted || a.mounts.empty() ||
        a.mounts.front().name != kRootfsShareName) {
        return Err(Error::with_errno(
            EINVAL, "add_container " + a.id + ": " + std::to_string(fd_count) + " fds for " +
                        std::to_string(wanted) + ", or the first mount is not the rootfs"));
    }
    return a;
}

// The member's spec for the agent: the namespaces it shares with the pod point at the
// sandbox container's in the guest.
Result<std::string> member_spec_json(MonitorState& s, const AddRequest& a) {
    if (a.pod_namespaces.empty()) {
        return a.spec_json;
    }
    oci::Spec spec = a.spec;
    uint32_t sandbox_pid = 0;
    {
        std::lock_guard lock(s.mu);
        sandbox_pid = s.pod_guest_pid;
    }
    if (sandbox_pid == 0) {
        return Err(Error::with_errno(
            EAGAIN, "add_container " + a.id + ": the pod's sandbox container is not created yet"));
    }
    RUNVM_TRY(join_sandbox_namespaces(spec, a.pod_namespaces, sandbox_pid));
    return oci::serialize_spec(spec);
}

// A pooled VM waited for its container with the pool's name and a clock that drifts under
// TCG: before the container's first process, the container's id names it and the host's
// clock and fresh entropy go in, as at a VM's own boot (Sandbox::boot).
Result<void> reinit_pooled_vm(MonitorState& s, const std::string& id) {
    RUNVM_ASSIGN_OR_RETURN(const auto req, host_reinit_request(id));
    if (auto r = s.sandbox->agent().reinit(req); !r && r.error().code() != ENOSYS) {
        return Err(std::move(r).error().context("pooled VM for " + id));
    }
    return Ok();
}

// Creates the member in the VM; returns its guest pid. `first`: the VM's first container.
Result<uint32_t> create_member(MonitorState& s, const AddRequest& a, bool first,
                               std::vector<UniqueFd>& fds, MemberFiles& files,
                               std::unique_ptr<StdioBridge>& bridge) {
    // The pod's VM was sized when the pod started (its CRI totals): a member's limits must
    // fit in it, since memory and vCPUs are not hot-added (docs/resources.md).
    RUNVM_TRY(check_fits_vm(a.spec.linux ? a.spec.linux->resources : std::nullopt, s.vm,
                            "container " + a.id + " in pod VM"));
    RUNVM_ASSIGN_OR_RETURN(const std::string spec_json, member_spec_json(s, a));
    bool pooled = false;
    {
        std::lock_guard lock(s.mu);
        pooled = s.record.annotations.count(kPoolKeyAnnotation) != 0;
    }
    if (pooled && first) { // a pod's later members find the VM renewed
        RUNVM_TRY(reinit_pooled_vm(s, a.id));
    }
    if (a.network) { // the taps are the last fds
        std::vector<UniqueFd> taps(
            std::make_move_iterator(fds.end() - static_cast<std::ptrdiff_t>(a.taps)),
            std::make_move_iterator(fds.end()));
        fds.resize(fds.size() - a.taps);
        RUNVM_TRY(s.sandbox->attach_network(std::move(taps), *a.network));
    }
    RUNVM_TRY(files.make_mount_points(a.mounts));
    StdioFds io;
    size_t next = 0;
    UniqueFd* slots[3] = {&io.in, &io.out, &io.err};
    for (size_t i = 0; i < a.stdio.size(); ++i) {
        if (a.stdio[i]) {
            *slots[i] = std::move(fds[next++]);
        }
    }
    RUNVM_TRY(files.attach(fds.begin() + static_cast<std::ptrdiff_t>(next)));
    const uint32_t port = s.next_port.fetch_add(4);
    RUNVM_ASSIGN_OR_RETURN(
        bridge, StdioBridge::open(s.sandbox->vsock_uds(), port, std::move(io), a.terminal));
    agent::v1::CreateContainerRequest req;
    req.set_container_id(a.id);
    req.set_oci_spec_json(spec_json);
    req.mutable_rootfs()->set_directory(member_guest_rootfs(a.id));
    req.mutable_rootfs()->set_readonly(false); // root.readonly: the launcher's remount
    req.mutable_shared_fs()->set_tag(kShareTag);
    req.mutable_shared_fs()->set_mount_point(kGuestShareDir);
    set_stdio_ports(req.mutable_stdio(), bridge->ports(), a.terminal);
    return s.sandbox->agent().create_container(req);
}

void save(MonitorState& s, const ContainerRecord& r) {
    if (auto saved = s.store.save(r); !saved) {
        spdlog::warn("save state of {}: {}", r.id, saved.error().str());
    }
}

} // namespace

void serve_add_container(MonitorState& s, ControlChannel& ch, ControlMessage msg) {
    auto reply_error = [&](const Error& e) { (void)ch.send({{"error", e.str()}}); };
    if (s.pod_share_dir.empty()) {
        reply_error(Error::with_errno(EINVAL, "container " + s.record.id +
                                                  " is not a pod sandbox (" + kCriContainerType +
                                                  "=sandbox): it takes no pod members"));
        return;
    }
    auto add = parse_add(msg.body, msg.fds.size());
    if (!add) {
        reply_error(add.error());
        return;
    }
    const std::string id = add->id;
    auto record = s.store.load(id);
    if (!record || record->pod_sandbox != s.record.id) {
        reply_error(Error::with_errno(EINVAL, "container " + id + " has no state in " +
                                                  s.store.root() + " naming pod " + s.record.id));
        return;
    }
    auto member = std::make_shared<PodMember>();
    member->record = std::move(record).value();
    if (add->spec.hooks) {
        member->poststart = add->spec.hooks->poststart;
    }
    member->oci_version = add->spec.oci_version;
    // A pooled VM's first container may be a CRI pod's sandbox: the pod's later members
    // join its namespaces, as those of a pod VM's own sandbox container.
    const bool pod_sandbox = pod_placement(id, member->record.annotations).role == PodRole::sandbox;
    bool first = false;
    {
        std::lock_guard lock(s.mu);
        if (s.closing || s.members.count(id) != 0) {
            reply_error(Error::with_errno(s.closing ? ESHUTDOWN : EEXIST,
                                          "pod " + s.record.id + ": cannot add container " + id));
            return;
        }
        s.members[id] = member; // reserved; "creating" until the agent has it
        first = s.members_added++ == 0;
        if (add->timeline_start) {
            member->timeline.emplace(*add->timeline_start);
            member->timeline->mark("container added");
        }
    }
    if (!add->host_cgroup_dirs.empty()) {
        auto layout = read_cgroup_layout();
        auto cg = layout ? HostCgroup::existing(*layout, add->host_cgroup_dirs)
                         : Result<HostCgroup>(Err(std::move(layout).error()));
        if (!cg) {
            spdlog::warn("pod {}: container {}: {}: its updates set the VM's cgroup", s.record.id,
                         id, cg.error().str());
        } else {
            std::lock_guard lock(s.mu);
            member->host_cgroup = std::move(cg).value();
        }
    }
    MemberFiles files(s.pod_share_dir, id, s.sandbox->broker_pid());
    std::unique_ptr<StdioBridge> bridge;
    auto pid = pod_sandbox && !first
                   ? Result<uint32_t>(Err(Error::with_errno(
                         EEXIST, "pod " + s.record.id + ": container " + id +
                                     " is a pod sandbox, and the VM holds containers already")))
                   : create_member(s, *add, first, msg.fds, files, bridge);
    if (!pid) {
        {
            std::lock_guard lock(s.mu);
            s.members.erase(id);
        }
        s.cv.notify_all(); // a pooled VM ends with its one member
        files.release();
        reply_error(pid.error());
        return;
    }
    {
        std::lock_guard lock(s.mu);
        if (pod_sandbox) {
            s.pod_guest_pid = *pid;
        }
        member->owns_vm = first && s.record.annotations.count(kPoolKeyAnnotation) != 0;
        auto& r = member->record;
        r.status = "created";
        r.hypervisor = s.sandbox->hypervisor_name();
        r.guest_kernel = s.sandbox->guest_kernel_release();
        r.run_dir = s.record.run_dir;
        if (member->timeline) {
            member->timeline->mark("container created");
            r.timeline = member->timeline->to_json();
        }
        save(s, r);
    }
    spdlog::info("pod {}: container {} created (guest pid {})", s.record.id, id, *pid);
    if (!ch.send({{"pid", *pid}})) {
        spdlog::warn("pod {}: container {}: its process is gone", s.record.id, id);
    }
    bool started = false;
    {
        std::unique_lock lock(s.mu);
        s.cv.wait(lock,
                  [&] { return member->start_requested || member->delete_requested || s.closing; });
        started = member->start_requested;
    }
    int status = 128 + SIGKILL;
    bool oom_killed = false;
    std::string error;
    if (started) {
        auto waited = s.sandbox->agent().wait_process(id, "");
        if (waited) {
            status = static_cast<int>(waited->exit_status());
            oom_killed = waited->oom_killed();
            bridge->wait_output_done(2s);
        } else {
            error = "pod " + s.record.id + ": " + waited.error().str();
        }
    }
    bridge.reset();
    if (auto removed = s.sandbox->agent().remove(id, true); !removed) {
        spdlog::debug("pod {}: remove {}: {}", s.record.id, id, removed.error().str());
    }
    files.release();
    {
        std::lock_guard lock(s.mu);
        auto& r = member->record;
        r.status = "stopped";
        r.exit_status = status;
        r.oom_killed = oom_killed;
        r.error = error;
        save(s, r);
        s.members.erase(id);
    }
    s.cv.notify_all();
    spdlog::info("pod {}: container {} ended with status {}", s.record.id, id, status);
    (void)ch.send({{"exit_status", status}});
}

} // namespace runvm::shim
