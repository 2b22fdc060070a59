// AgentService: the runvm.agent.v1.Agent ttRPC handlers over the container table.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent.pb.h"
#include "base/owned_thread.hpp"
#include "guest_agent/pid1/reaper.hpp"
#include "guest_agent/service/container_state.hpp"
#include "guest_agent/service/shared_fs.hpp"
#include "guest_agent/service/stdio_transport.hpp"
#include "rpc/server.hpp"

namespace runvm::agent {

inline constexpr uint32_t kAgentApiVersion = 1;
inline constexpr const char* kAgentService = "runvm.agent.v1.Agent";

struct AgentOptions {
    StdioTransport stdio;
    std::string state_dir = "/run/runvm-agent"; // block-device rootfs mounts go here
    std::string cgroup_mount;                   // cgroup2 mount; empty: no cgroups
    // Host mode: every container cgroup goes under <cgroup_mount>/<cgroup_parent> (made on
    // demand, removed with the service), never beside the host's own. Empty in the guest.
    std::string cgroup_parent;
    std::chrono::milliseconds setup_timeout{30000};
    // DestroySandbox with poweroff: called after everything stopped (PID 1 powers off).
    std::function<void()> on_poweroff;
};

namespace pb = runvm::agent::v1;

class AgentService {
public:
    using Status = rpc::Status;
    using Ctx = rpc::CallContext;

    AgentService(AgentOptions options, Reaper& reaper);
    ~AgentService(); // kills every container (as DestroySandbox would)
    AgentService(const AgentService&) = delete;
    AgentService& operator=(const AgentService&) = delete;

    void register_with(rpc::Server& server);

    // Handlers (one per method of agent.proto), callable directly in tests.
    Status create_container(const Ctx&, const pb::CreateContainerRequest&,
                            pb::CreateContainerResponse&);
    Status start_container(const Ctx&, const pb::StartContainerRequest&,
                           pb::StartContainerResponse&);
    Status exec_process(const Ctx&, const pb::ExecProcessRequest&, pb::ExecProcessResponse&);
    Status signal_process(const Ctx&, const pb::SignalProcessRequest&, pb::Empty&);
    Status wait_process(const Ctx&, const pb::WaitProcessRequest&, pb::WaitProcessResponse&);
    Status resize_tty(const Ctx&, const pb::ResizeTtyRequest&, pb::Empty&);
    Status close_stdin(const Ctx&, const pb::CloseStdinRequest&, pb::Empty&);
    Status list_processes(const Ctx&, const pb::ListProcessesRequest&, pb::ListProcessesResponse&);
    Status stats_container(const Ctx&, const pb::StatsContainerRequest&,
                           pb::StatsContainerResponse&);
    Status update_container(const Ctx&, const pb::UpdateContainerRequest&, pb::Empty&);
    Status pause_container(const Ctx&, const pb::PauseContainerRequest&, pb::Empty&);
    Status resume_container(const Ctx&, const pb::ResumeContainerRequest&, pb::Empty&);
    Status remove_container(const Ctx&, const pb::RemoveContainerRequest&, pb::Empty&);
    Status health(const Ctx&, const pb::HealthRequest&, pb::HealthResponse&);
    Status version(const Ctx&, const pb::VersionRequest&, pb::VersionResponse&);
    Status destroy_sandbox(const Ctx&, const pb::DestroySandboxRequest&, pb::Empty&);
    Status configure_network(const Ctx&, const pb::ConfigureNetworkRequest&, pb::Empty&);
    Status reinit(const Ctx&, const pb::ReinitRequest&, pb::Empty&);

private:
    std::shared_ptr<ContainerState> find(const std::string& id);
    // Kills every process of `c` (the cgroup's, or the ones the agent started) and waits.
    void kill_all(ContainerState& c, int sig);
    // Pause and Resume: freezes or thaws the container's cgroup; `method` names the RPC.
    Status set_frozen(const std::string& id, bool frozen, const char* method);
    void teardown(ContainerState& c);

    AgentOptions options_;
    Reaper& reaper_;
    std::mutex mu_; // guards containers_ (not the containers themselves)
    std::map<std::string, std::shared_ptr<ContainerState>> containers_;
    std::mutex lifecycle_mu_;  // one create/start/remove at a time per agent
    SharedFsMounts shared_fs_; // the host's virtio-fs shares, mounted on first use
    std::once_flag poweroff_once_;
    OwnedThread poweroff_; // runs on_poweroff once DestroySandbox's response is on its way
};

} // namespace runvm::agent
