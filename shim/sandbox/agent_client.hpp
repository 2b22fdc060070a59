// AgentClient: the host's typed view of runvm-agent's ttRPC API (rpc/proto/agent.proto),
// every call bounded by a timeout except waits, which end when the VM's connection drops.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "agent.pb.h"
#include "base/result.hpp"
#include "rpc/client.hpp"
#include "shim/sandbox/stdio_bridge.hpp"

namespace runvm::shim {

class AgentClient {
public:
    explicit AgentClient(rpc::Client client) : client_(std::move(client)) {}

    Result<agent::v1::VersionResponse> version(std::chrono::milliseconds timeout);
    Result<uint32_t> create_container(const agent::v1::CreateContainerRequest& req);
    Result<uint32_t> start_container(const std::string& id);
    Result<uint32_t> exec_process(const agent::v1::ExecProcessRequest& req);
    Result<void> signal(const std::string& id, const std::string& exec_id, uint32_t sig, bool all);
    // Blocks until the process exits or the connection is lost.
    Result<agent::v1::WaitProcessResponse> wait_process(const std::string& id,
                                                        const std::string& exec_id);
    Result<void> resize_tty(const std::string& id, const std::string& exec_id, uint32_t width,
                            uint32_t height);
    Result<void> close_stdin(const std::string& id, const std::string& exec_id);
    Result<agent::v1::ListProcessesResponse> list_processes(const std::string& id);
    Result<agent::v1::StatsContainerResponse> stats(const std::string& id);
    Result<void> update(const std::string& id, const std::string& resources_json);
    Result<void> pause(const std::string& id);
    Result<void> resume(const std::string& id);
    Result<void> remove(const std::string& id, bool force);
    Result<void> destroy_sandbox(std::chrono::milliseconds timeout);
    Result<void> configure_network(const agent::v1::ConfigureNetworkRequest& req);
    // ENOSYS when the agent predates Reinit (answers Unimplemented): the caller goes on.
    Result<void> reinit(const agent::v1::ReinitRequest& req);

    bool connected() const { return client_.connected(); }
    void close() { client_.close(); }

private:
    Result<void> call(const char* method, const google::protobuf::MessageLite& req,
                      google::protobuf::MessageLite* resp, std::chrono::milliseconds timeout);
    rpc::Client client_;
};

inline constexpr const char* kAgentService = "runvm.agent.v1.Agent";
inline constexpr uint32_t kAgentVsockPort = 1024;
inline constexpr std::chrono::milliseconds kAgentCallTimeout{30'000};

// The host's side of a VM's identity: 32 bytes of getrandom(2), CLOCK_REALTIME now, and
// `vm_name` cut to 64 bytes as the guest's hostname.
Result<agent::v1::ReinitRequest> host_reinit_request(const std::string& vm_name);

// The stdio part of a CreateContainer or ExecProcess request: where the agent dials.
void set_stdio_ports(agent::v1::StdioPorts* out, const StdioPortNumbers& ports, bool terminal);

} // namespace runvm::shim
