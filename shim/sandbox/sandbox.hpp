// Sandbox: one microVM — rootfs image, broker, hypervisor and the agent connection — set up
// in order and torn down in reverse on failure or drop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/hypervisor/backend.hpp"
#include "shim/sandbox/agent_client.hpp"
#include "shim/sandbox/boot_timeline.hpp"
#include "shim/sandbox/broker_process.hpp"
#include "shim/sandbox/host_shares.hpp"
#include "shim/sandbox/jail_dirs.hpp"
#include "shim/sandbox/log_pump.hpp"
#include "shim/sandbox/sandbox_network.hpp"
#include "shim/sandbox/vm_template.hpp"

namespace runvm::shim {

struct SandboxOptions {
    std::string id;
    std::string run_dir; // short (Unix socket paths are limited to 107 bytes); created here
    // The VM's settings: guest image, size, hypervisor, helper programs, boot deadline.
    config::RuntimeConfig settings;
    std::string rootfs_dir; // the bundle's rootfs; becomes /dev/vda
    bool rootfs_readonly = false;
    // Host files and directories the container bind-mounts (guest_spec): served through one
    // virtio-fs device, tag kShareTag, from run_dir/shared. Empty: no virtio-fs device.
    std::vector<HostShare> shares;
    // A pod's VM: the share (and its virtio-fs device) exists also without shares, for
    // the pod's members (pod.hpp) added later.
    bool always_share = false;
    // A pooled VM (shim/container/vm_pool.hpp), booted before any container: a failed start
    // keeps its logs apart (failed_start_logs.hpp).
    bool pooled = false;
    // A pooled VM's template key (shim/sandbox/vm_template.hpp), used on runvm-vmm only: the VM
    // is restored from settings.template_dir/<key> when one is saved there, else booted and
    // saved there at "agent ready". Empty: booted, not saved.
    std::string template_key;
    // The container's pre-made network namespace (the spec's path): plumbed before the VM
    // boots, its interfaces given to the guest. nullopt: loopback only.
    std::optional<std::string> netns_path;
    GuestNameFiles name_files; // the guest's /etc/resolv.conf and /etc/hosts, with netns_path
    // A pooled VM's network devices with no tap yet: the guest parks their links where its
    // containers do not see them, until attach_network gives them a container's network.
    size_t spare_links = 0;
};

class Sandbox {
public:
    static Result<std::unique_ptr<Sandbox>> boot(const SandboxOptions& options);
    ~Sandbox(); // shutdown()

    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    AgentClient& agent() { return *agent_; }
    BootTimeline& timeline() { return timeline_; }
    const std::string& vsock_uds() const { return vsock_uds_; }
    const std::string& guest_kernel_release() const { return kernel_release_; }
    const std::string& hypervisor_name() const { return hypervisor_name_; }
    // Whether this VM was restored from a template rather than booted.
    bool restored() const { return template_files_.has_value(); }
    // Whether this VM saved its template (options.template_key) at "agent ready".
    bool saved_template() const { return saved_template_; }
    pid_t hypervisor_pid() const { return hypervisor_ ? hypervisor_->pid() : -1; }
    pid_t broker_pid() const { return broker_ ? broker_->pid() : -1; }
    // The host side of the virtio-fs share; empty without one.
    const std::string& share_dir() const { return shares_.dir(); }

    // A pooled VM's container's network namespace, plumbed by the caller: each tap goes to
    // the broker for a spare link (in order), then the guest takes that link back with the
    // request's interface (its MAC, name, MTU, addresses) and routes. ENOSPC: more taps than
    // spare links. Once per VM.
    Result<void> attach_network(std::vector<UniqueFd> taps,
                                agent::v1::ConfigureNetworkRequest request);

    // Ok while the hypervisor and the broker run; else an error naming which one ended and
    // the console's last lines (a kernel panic shows there).
    Result<void> check_alive();

    // Asks the agent to power off, then stops the hypervisor and the broker and removes the
    // image and sockets. Idempotent.
    void shutdown();

    // The last lines of the guest console, for error messages.
    std::string console_tail(size_t max_lines = 8) const;
    // "; guest kernel panic: \"<the panic line>\"; console: <last lines>", or "" when the
    // console is empty: what an error about the guest's end appends.
    std::string guest_report() const;
    // The hypervisor's own last complaint (its log), for a boot that failed.
    std::string hypervisor_log_tail() const;
    // Keeps the tails of this VM's logs past its teardown (failed_start_logs.hpp); returns
    // where, or "".
    std::string keep_logs(const std::string& reason) const;

private:
    explicit Sandbox(SandboxOptions options) : options_(std::move(options)) {}
    Result<void> boot_steps();
    Result<void> start_vm();
    Result<void> configure_guest_network();
    Result<void> park_spare_links();
    Result<void> connect_agent();
    // With options_.template_key on runvm-vmm: restore from the saved template, or set up the
    // save of this boot (vm_template.hpp). A template problem is a warning, never an error.
    void prepare_template(VmConfig& vm);
    void save_template();
    // The VM's logs and the hypervisor's files in run_dir: kept on a failed start, removed
    // with the VM.
    std::vector<std::string> log_files() const;

    SandboxOptions options_;
    BootTimeline timeline_;
    std::string image_;
    std::string vsock_uds_;
    std::string console_log_;
    std::string kernel_release_;
    std::string hypervisor_name_;
    std::string ended_; // what check_alive saw end, in order
    // Drains the helpers' output into the capped logs; declared before them, so it outlives
    // their writers.
    std::unique_ptr<LogPump> log_pump_;
    // Declared before broker_: destroyed after it, so the taps' qdiscs go once the broker has.
    std::optional<SandboxNetwork> network_;
    std::vector<UniqueFd> spare_links_; // the shim's ends of the brokers' tap sockets
    std::optional<BrokerProcess> broker_;
    std::unique_ptr<HypervisorBackend> hypervisor_;
    std::unique_ptr<AgentClient> agent_;
    HostShareDir shares_; // run_dir/shared with its bind mounts, when there are shares
    // Where the agent dials in at boot (vsock host port kAgentVsockPort), until it has.
    UniqueFd agent_listener_;
    std::string agent_listen_path_;
    JailDirs jail_; // where the sockets are; jail/ and jail-root/ when jailed
    std::optional<VmTemplateFiles> template_files_; // restored from these
    std::optional<VmTemplateBuild> template_build_; // saved there at "agent ready"
    std::string vmm_control_socket_;
    bool saved_template_ = false;
    bool shut_down_ = false;
};

} // namespace runvm::shim
