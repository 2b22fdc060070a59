// Sandbox boot and teardown: image, broker, hypervisor, agent; undone in reverse.
#include "shim/sandbox/sandbox.hpp"

#include <csignal>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/capped_log.hpp"
#include "base/io.hpp"
#include "base/process_handle.hpp"
#include "base/secure_dir.hpp"
#include "base/unix_socket.hpp"
#include "jail/idmapped_mount.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/hypervisor/jail_command.hpp"
#include "shim/sandbox/failed_start_logs.hpp"
#include "shim/sandbox/hybrid_vsock.hpp"
#include "shim/sandbox/rootfs_image.hpp"

namespace runvm::shim {

namespace {

using namespace std::chrono_literals;

// How much of the end of a log an error message is built from: the guest fills the console,
// so none is ever read whole.
constexpr size_t kReportTail = 64 * 1024;

std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
    }
    return "ended (status " + std::to_string(status) + ")";
}

} // namespace

Result<std::unique_ptr<Sandbox>> Sandbox::boot(const SandboxOptions& options) {
    std::unique_ptr<Sandbox> sb(new Sandbox(options));
    // A failure drops `sb`, whose destructor undoes what was done, in reverse; the logs'
    // tails are kept first (docs/cli.md, "Faults").
    if (auto booted = sb->boot_steps(); !booted) {
        const std::string kept = sb->keep_logs(booted.error().str());
        if (kept.empty()) {
            return Err(std::move(booted).error());
        }
        return Err(Error::msg(with_kept_logs(booted.error().str(), kept)));
    }
    return sb;
}

std::string Sandbox::keep_logs(const std::string& reason) const {
    if (log_pump_) {
        log_pump_->drain();
    }
    return keep_failed_start_logs(options_.run_dir, options_.id, reason, log_files(),
                                  options_.pooled);
}

Result<void> Sandbox::boot_steps() {
    const SandboxOptions& options = options_;
    RUNVM_TRY(open_owned_dir(options.run_dir, 0700));
    RUNVM_ASSIGN_OR_RETURN(jail_, make_jail_dirs(options.run_dir, options.settings, options.id));
    // The hybrid vsock sockets: made by the broker (jailed, it can write only there) and by
    // the shim's per-port listeners, which the broker dials.
    vsock_uds_ = jail_.dir + "/vsock";
    console_log_ = options.run_dir + "/console.log";
    log_pump_ = std::make_unique<LogPump>(uint64_t{options.settings.log_max_kib} * 1024);
    if (!options.rootfs_dir.empty()) {
        image_ = options.run_dir + "/rootfs.img";
        RUNVM_TRY(build_rootfs_image(options.rootfs_dir, image_));
        timeline_.mark("rootfs image built");
    }
    if (!options.shares.empty() || options.always_share) {
        RUNVM_ASSIGN_OR_RETURN(shares_,
                               HostShareDir::create(options.run_dir + "/shared", options.shares));
    }
    if (options.netns_path) {
        RUNVM_ASSIGN_OR_RETURN(auto net, SandboxNetwork::plumb(*options.netns_path));
        network_.emplace(std::move(net));
        timeline_.mark("network plumbed");
    }
    RUNVM_TRY(start_vm());
    auto connected = connect_agent();
    if (!connected) {
        return Err(Error::msg("sandbox " + options.id + ": boot: " + connected.error().str() +
                              guest_report()));
    }
    if (auto net = configure_guest_network(); !net) {
        return Err(Error::msg("sandbox " + options.id + ": guest network: " + net.error().str() +
                              guest_report()));
    }
    return Ok();
}

Result<void> Sandbox::start_vm() {
    BrokerConfig broker;
    broker.binary = config::helper_program(options_.settings.paths.broker,
                                           config::HelperPaths{}.broker, "broker");
    // The vhost-user sockets are in the jail's directory: the jailed hypervisor reaches them.
    broker.vsock_socket = jail_.dir + "/vsock.vhost";
    broker.vsock_uds = vsock_uds_;
    broker.jail = jail_;
    broker.jail_user = options_.settings.jail_user;
    broker.jailer = jail_program();
    broker.log_path = options_.run_dir + "/broker.log";
    // Every file a guest can fill goes through the pump, capped (docs/sandbox.md).
    RUNVM_ASSIGN_OR_RETURN(broker.output_path, log_pump_->add(broker.log_path));
    if (!image_.empty()) {
        broker.blk_socket = jail_.dir + "/blk.vhost";
        broker.blk_image = image_;
        broker.blk_readonly = options_.rootfs_readonly;
    }
    if (network_) {
        for (size_t i = 0; i < network_->interfaces().size(); ++i) {
            const auto& iface = network_->interfaces()[i];
            BrokerNetDevice net;
            net.socket = jail_.dir + "/net" + std::to_string(i) + ".vhost";
            net.tap_fd = network_->tap_fds().at(i).get();
            net.mac = mac_string(iface.mac);
            net.mtu = iface.mtu;
            broker.net.push_back(std::move(net));
        }
    }
    // The broker's ends: closed once it runs (its own copies cross exec).
    std::vector<UniqueFd> spare_broker_ends;
    for (size_t i = 0; i < options_.spare_links; ++i) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            return Err(Error::from_errno("socketpair for spare link " + std::to_string(i)));
        }
        spare_links_.emplace_back(sv[0]);
        spare_broker_ends.emplace_back(sv[1]);
        BrokerNetDevice net;
        net.socket = jail_.dir + "/spare" + std::to_string(i) + ".vhost";
        net.tap_fd = sv[1];
        net.tap_later = true;
        net.mac = spare_link_mac(i);
        broker.net.push_back(std::move(net));
    }
    if (!shares_.dir().empty()) {
        broker.fs_socket = jail_.dir + "/fs.vhost";
        broker.fs_dir = shares_.dir();
        broker.fs_tag = kShareTag;
        if (jail_.jailed()) {
            RUNVM_ASSIGN_OR_RETURN(const std::string mountinfo, read_file("/proc/self/mountinfo"));
            broker.fs_host_ids =
                options_.always_share || !jail::tree_can_be_idmapped(broker.fs_dir, mountinfo);
            if (broker.fs_host_ids) {
                spdlog::info("sandbox {}: the broker serves {} with host ids (it holds or will "
                             "hold a mount that cannot be idmapped; docs/security.md)",
                             options_.id, broker.fs_dir);
            }
        }
    }
    // The hypervisor's inputs (kernel, initramfs) are checked before anything starts.
    std::string why;
    hypervisor_ = make_backend(options_.settings.hypervisor, &why);
    hypervisor_name_ = hypervisor_->name();
    VmConfig vm;
    vm.settings = options_.settings;
    vm.settings.jail = jail_.jailed(); // not for a rootless runvm (make_jail_dirs)
    vm.huge_pages = true;
    vm.vsock_socket = broker.vsock_socket;
    vm.blk_socket = broker.blk_socket;
    vm.fs_socket = broker.fs_socket;
    vm.fs_tag = broker.fs_tag;
    RUNVM_ASSIGN_OR_RETURN(vm.console_log, log_pump_->add(console_log_));
    vm.log_writer = [this](const std::string& file) { return log_pump_->add(file); };
    for (const auto& net : broker.net) {
        vm.net_devices.push_back({net.socket, net.mac});
    }
    vm.work_dir = options_.run_dir;
    if (jail_.jailed()) {
        vm.jail_dir = jail_.dir;
        vm.jail_root = jail_.root;
        vm.jail_ids = {jail_.user.uid, jail_.user.gid};
    }
    if (!options_.template_key.empty() && hypervisor_name_ == "runvm-vmm") {
        prepare_template(vm);
    }
    RUNVM_TRY(hypervisor_->prepare(vm));
    spdlog::debug("sandbox {}: {} ({})", options_.id, hypervisor_name_, why);
    RUNVM_TRY(log_pump_->start());

    // The agent dials the host as soon as it serves: no polling for it, no time lost
    // between its first listen and the host's next try.
    // A restored guest's agent dialed the template's host long ago: the host dials it.
    if (!restored()) {
        agent_listen_path_ = vsock_host_port_path(vsock_uds_, kAgentVsockPort);
        RUNVM_ASSIGN_OR_RETURN(agent_listener_, listen_vsock_port(vsock_uds_, kAgentVsockPort, 1));
    }
    RUNVM_ASSIGN_OR_RETURN(auto b, BrokerProcess::start(broker, 5s));
    broker_.emplace(std::move(b));
    // A broker that runs as root made its sockets root's: the jailed hypervisor connects.
    for (const std::string* socket : {&vm.vsock_socket, &vm.blk_socket, &vm.fs_socket}) {
        if (!socket->empty()) {
            RUNVM_TRY(give_to_jail_user(jail_, *socket));
        }
    }
    for (const auto& net : vm.net_devices) {
        RUNVM_TRY(give_to_jail_user(jail_, net.socket));
    }
    if (network_) {
        network_->tap_fds().clear(); // the broker holds them: the taps now go with it
    }
    spare_broker_ends.clear();
    timeline_.mark("broker listening");
    RUNVM_TRY(hypervisor_->start());
    timeline_.mark("hypervisor started");
    if (template_files_) { // the VMM has its own copies of the fds now
        template_files_->state.reset();
        template_files_->memory.reset();
    }
    return Ok();
}

void Sandbox::prepare_template(VmConfig& vm) {
    const std::string& root = options_.settings.template_dir;
    const std::string& key = options_.template_key;
    auto saved = open_vm_template(root, key);
    if (saved && *saved) {
        template_files_ = std::move(**saved);
        vm.restore_dir = template_files_->dir;
        vm.restore_state_fd = template_files_->state.get();
        vm.restore_memory_fd = template_files_->memory.get();
        return;
    }
    if (!saved) {
        spdlog::warn("sandbox {}: template {}: {}: removed; this VM boots and is saved anew",
                     options_.id, key, saved.error().str());
        remove_vm_templates(root, key);
    }
    // None saved: this boot is, at "agent ready", for the next VM of its key.
    const uid_t uid = jail_.jailed() ? jail_.user.uid : 0;
    const gid_t gid = jail_.jailed() ? jail_.user.gid : 0;
    auto build = VmTemplateBuild::begin(root, key, uid, gid);
    if (!build) {
        spdlog::warn("sandbox {}: template {} not saved: {}", options_.id, key,
                     build.error().str());
        return;
    }
    template_build_.emplace(std::move(build).value());
    // Pages the boot freed (the initramfs image, the kernel's init sections) are zeroed, so
    // the template holds only what the guest uses: a zero page is a hole, not copied back
    // at each restore. The clones keep the setting (it is in the kernel's memory).
    vm.settings.kernel_cmdline += " init_on_free=1";
    vmm_control_socket_ = jail_.dir + "/vmm.ctl";
    vm.control_socket = vmm_control_socket_;
    vm.snapshot_dir = template_build_->dir();
}

void Sandbox::save_template() {
    // The VM runs on once saved; its vCPUs pause for as long as the memory takes to write.
    auto bytes = request_vmm_snapshot(vmm_control_socket_, template_build_->dir(), 60'000);
    auto committed = bytes ? template_build_->commit() : Result<void>(Ok());
    if (!bytes || !committed) {
        spdlog::warn("sandbox {}: template {} not saved: {}", options_.id, options_.template_key,
                     (!bytes ? bytes.error() : committed.error()).str());
    } else {
        timeline_.mark("template saved");
        saved_template_ = true;
        spdlog::info("sandbox {}: saved template {} ({} MiB written)", options_.id,
                     options_.template_key, *bytes >> 20);
    }
    template_build_.reset();
}

Result<void> Sandbox::configure_guest_network() {
    if (!network_) {
        return Ok();
    }
    RUNVM_TRY(
        agent_->configure_network(network_request(network_->interfaces(), options_.name_files)));
    timeline_.mark("network configured");
    return Ok();
}

Result<void> Sandbox::park_spare_links() {
    if (spare_links_.empty()) {
        return Ok();
    }
    agent::v1::ConfigureNetworkRequest park;
    for (size_t i = 0; i < spare_links_.size(); ++i) {
        park.add_park(spare_link_mac(i));
    }
    RUNVM_TRY(agent_->configure_network(park));
    timeline_.mark("spare links parked");
    return Ok();
}

Result<void> Sandbox::attach_network(std::vector<UniqueFd> taps,
                                     agent::v1::ConfigureNetworkRequest request) {
    const std::string what = "sandbox " + options_.id;
    if (taps.size() > spare_links_.size() ||
        static_cast<size_t>(request.interfaces_size()) != taps.size()) {
        return Err(Error::with_errno(
            ENOSPC, what + ": " + std::to_string(taps.size()) + " taps for " +
                        std::to_string(request.interfaces_size()) + " interfaces, " +
                        std::to_string(spare_links_.size()) + " spare links"));
    }
    for (size_t i = 0; i < taps.size(); ++i) {
        RUNVM_TRY(offer_tap(spare_links_[i].get(), taps[i].get(),
                            what + " spare link " + std::to_string(i)));
        request.mutable_interfaces(static_cast<int>(i))->set_guest_mac(spare_link_mac(i));
    }
    timeline_.mark("taps attached");
    RUNVM_TRY(agent_->configure_network(request));
    timeline_.mark("network configured");
    return Ok();
}

Result<void> Sandbox::check_alive() {
    // Both are checked, and what ended is remembered (a reaped child cannot be asked
    // again): one's death often ends the other (a vhost-user peer hangs up), and the
    // message must name the one that went first whichever the poll saw first.
    auto note = [this](const std::string& what) { ended_ += (ended_.empty() ? "" : "; ") + what; };
    if (hypervisor_ && hypervisor_->pid() > 0) {
        auto st = hypervisor_->wait(0ms);
        if (st.ok() && st->has_value()) {
            note(hypervisor_name_ + " " + describe_status(**st) + hypervisor_log_tail());
        }
    } else if (hypervisor_ && ended_.empty()) {
        note(hypervisor_name_ + " is not running");
    }
    if (broker_) {
        if (auto st = broker_->poll()) {
            note("runvm-broker " + describe_status(*st));
        }
    }
    if (!ended_.empty()) {
        return Err(Error::msg(ended_));
    }
    return Ok();
}

Result<void> Sandbox::connect_agent() {
    const auto deadline = std::chrono::steady_clock::now() + options_.settings.boot_timeout;
    auto watch = [this]() -> Result<void> {
        struct stat st {};
        // The first console byte is the kernel's first message (quiet: its first warning).
        if (!timeline_.has("kernel running") && ::stat(console_log_.c_str(), &st) == 0 &&
            st.st_size > 0) {
            timeline_.mark("kernel running");
        }
        return check_alive();
    };
    UniqueFd fd;
    if (restored()) {
        RUNVM_ASSIGN_OR_RETURN(fd,
                               vsock_connect_retry(vsock_uds_, kAgentVsockPort, deadline, watch));
        timeline_.mark("vm restored");
    } else {
        RUNVM_ASSIGN_OR_RETURN(fd, vsock_accept_guest(agent_listener_.get(), deadline, watch));
        agent_listener_.reset();
        ::unlink(agent_listen_path_.c_str());
        timeline_.mark("kernel running");
    }
    agent_ = std::make_unique<AgentClient>(rpc::Client(std::move(fd)));
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    RUNVM_ASSIGN_OR_RETURN(auto version, agent_->version(std::max(left, 1000ms)));
    kernel_release_ = version.kernel_release();
    timeline_.mark("agent ready");
    if (!restored()) { // a restored guest parked them before its template was saved
        RUNVM_TRY(park_spare_links());
    }
    if (template_build_) { // before Reinit: the template holds no VM's identity
        save_template();
    }
    // On every boot, before any container: a TCG guest's clock (refined-jiffies) drifts from
    // its first second, and a VM restored from a template shares its RNG with the siblings.
    RUNVM_ASSIGN_OR_RETURN(auto identity, host_reinit_request(options_.id));
    if (auto r = agent_->reinit(identity); r.ok()) {
        timeline_.mark("guest reinit");
    } else if (r.error().code() == ENOSYS) {
        spdlog::warn("sandbox {}: {} (an older agent): the guest keeps its own clock, RNG "
                     "state and hostname",
                     options_.id, r.error().message());
    } else {
        return Err(std::move(r).error());
    }
    spdlog::debug("sandbox {}: agent {} on {}: {}", options_.id, version.agent_version(),
                  kernel_release_, timeline_.str());
    return Ok();
}

std::string Sandbox::hypervisor_log_tail() const {
    if (!hypervisor_ || hypervisor_->log_path().empty()) {
        return "";
    }
    const std::string& log = hypervisor_->log_path();
    if (log_pump_) {
        log_pump_->drain(); // an exited hypervisor's last words may still be in the pipe
    }
    std::string s = read_log_tail(log, kReportTail);
    if (s.empty()) {
        return "";
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    const auto pos = s.rfind('\n');
    return " (" + log.substr(log.rfind('/') + 1) + ": " +
           (pos == std::string::npos ? s : s.substr(pos + 1)) + ")";
}

std::vector<std::string> Sandbox::log_files() const {
    std::vector<std::string> files = {console_log_, options_.run_dir + "/broker.log"};
    if (hypervisor_) {
        const auto& own = hypervisor_->work_files();
        files.insert(files.end(), own.begin(), own.end());
    }
    return files;
}

std::string Sandbox::console_tail(size_t max_lines) const {
    std::string s = read_log_tail(console_log_, kReportTail);
    if (s.empty()) {
        return "";
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    size_t pos = s.size();
    for (size_t n = 0; n < max_lines && pos != std::string::npos && pos > 0; ++n) {
        pos = s.rfind('\n', pos - 1);
    }
    std::string tail = pos == std::string::npos ? s : s.substr(pos + 1);
    for (auto& c : tail) {
        if (c == '\n') {
            c = '|';
        } else if (c == '\r') {
            c = ' ';
        }
    }
    return tail;
}

std::string Sandbox::guest_report() const {
    std::string report;
    if (log_pump_) {
        log_pump_->drain();
    }
    // The panic's reason is one line, often far above the end (a backtrace follows).
    const std::string text = read_log_tail(console_log_, kReportTail);
    if (const auto at = text.rfind("Kernel panic - not syncing"); at != std::string::npos) {
        const auto end = text.find_first_of("\r\n", at);
        report += "; guest kernel panic: \"" + text.substr(at, end - at) + "\"";
    }
    if (std::string tail = console_tail(4); !tail.empty()) {
        report += "; console: " + tail;
    }
    return report;
}

void Sandbox::shutdown() {
    if (shut_down_) {
        return;
    }
    shut_down_ = true;
    // No DestroySandbox and guest poweroff first: nothing in the guest outlives the VM (the
    // rootfs image is unlinked below, stdio is already drained), so a clean guest shutdown
    // would only add its time (~0.5 s under TCG) to every `runvm run`. Once a device writes
    // through to host files (virtio-fs), this must ask the agent to sync first.
    if (agent_) {
        agent_->close();
    }
    // SIGKILL at once: a graceful QEMU exit takes ~150 ms under TCG and saves nothing. Both
    // are signalled before either is reaped, so their exits (~10 ms each) overlap; the
    // broker holds no state that outlives it (the image goes below, files are written
    // through). Both are our children that only stop() reaps, so their pids are theirs.
    const pid_t hypervisor_pid = hypervisor_ ? hypervisor_->pid() : -1;
    for (const pid_t pid : {hypervisor_pid, broker_ ? broker_->pid() : -1}) {
        if (auto child = ProcessHandle::open_child(pid)) {
            (void)child->signal(SIGKILL);
        }
    }
    if (hypervisor_pid > 0) {
        hypervisor_->stop(0ms);
        spdlog::debug("sandbox {}: {} stopped", options_.id, hypervisor_name_);
    }
    if (broker_) {
        broker_->stop(0ms);
        spdlog::debug("sandbox {}: broker stopped", options_.id);
    }
    if (!image_.empty()) {
        ::unlink(image_.c_str());
    }
    shares_.release(); // after the broker: it serves from there until it is gone
    if (log_pump_) {
        log_pump_->stop(); // its writers are gone: what they left is copied, then it ends
    }
    for (const std::string& f : log_files()) {
        ::unlink(f.c_str());
        ::unlink((f + ".1").c_str()); // a capped log's older half
    }
    ::unlink(vsock_uds_.c_str());
    if (!vmm_control_socket_.empty()) {
        ::unlink(vmm_control_socket_.c_str());
    }
    if (!agent_listen_path_.empty()) {
        ::unlink(agent_listen_path_.c_str());
    }
    remove_jail_dirs(jail_); // its processes are gone: nothing makes files there any more
    ::rmdir(options_.run_dir.c_str());
}

Sandbox::~Sandbox() {
    shutdown();
}

} // namespace runvm::shim
