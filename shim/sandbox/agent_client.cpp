// Typed wrappers over the agent's ttRPC methods; a failed Status becomes an Error naming it.
#include "shim/sandbox/agent_client.hpp"

#include <ctime>

#include <sys/random.h>

namespace runvm::shim {

namespace av = agent::v1;
using av::Empty;

namespace {

Error agent_error(const char* method, const rpc::Status& st) {
    const int err = st.code == rpc::kDeadlineExceeded ? ETIMEDOUT
                    : st.code == rpc::kUnavailable    ? ECONNRESET
                    : st.code == rpc::kNotFound       ? ENOENT
                                                      : 0;
    return Error(err, std::string("agent ") + method + ": " + st.str());
}

} // namespace

Result<void> AgentClient::call(const char* method, const google::protobuf::MessageLite& req,
                               google::protobuf::MessageLite* resp,
                               std::chrono::milliseconds timeout) {
    rpc::CallOptions opts;
    opts.timeout = timeout;
    const rpc::Status st = client_.call(kAgentService, method, req, resp, opts);
    if (!st.ok()) {
        return Err(agent_error(method, st));
    }
    return Ok();
}

Result<av::VersionResponse> AgentClient::version(std::chrono::milliseconds timeout) {
    av::VersionResponse resp;
    RUNVM_TRY(call("Version", av::VersionRequest(), &resp, timeout));
    return resp;
}

Result<uint32_t> AgentClient::create_container(const av::CreateContainerRequest& req) {
    av::CreateContainerResponse resp;
    RUNVM_TRY(call("CreateContainer", req, &resp, kAgentCallTimeout));
    return resp.pid();
}

Result<uint32_t> AgentClient::start_container(const std::string& id) {
    av::StartContainerRequest req;
    req.set_container_id(id);
    av::StartContainerResponse resp;
    RUNVM_TRY(call("StartContainer", req, &resp, kAgentCallTimeout));
    return resp.pid();
}

Result<uint32_t> AgentClient::exec_process(const av::ExecProcessRequest& req) {
    av::ExecProcessResponse resp;
    RUNVM_TRY(call("ExecProcess", req, &resp, kAgentCallTimeout));
    return resp.pid();
}

Result<void> AgentClient::signal(const std::string& id, const std::string& exec_id, uint32_t sig,
                                 bool all) {
    av::SignalProcessRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    req.set_signal(sig);
    req.set_all(all);
    Empty resp;
    return call("SignalProcess", req, &resp, kAgentCallTimeout);
}

Result<av::WaitProcessResponse> AgentClient::wait_process(const std::string& id,
                                                          const std::string& exec_id) {
    av::WaitProcessRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    av::WaitProcessResponse resp;
    // No deadline: a process may run for ever; the call fails when the VM goes away.
    RUNVM_TRY(call("WaitProcess", req, &resp, std::chrono::milliseconds(0)));
    return resp;
}

Result<void> AgentClient::resize_tty(const std::string& id, const std::string& exec_id,
                                     uint32_t width, uint32_t height) {
    av::ResizeTtyRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    req.set_width(width);
    req.set_height(height);
    Empty resp;
    return call("ResizeTty", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::close_stdin(const std::string& id, const std::string& exec_id) {
    av::CloseStdinRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    Empty resp;
    return call("CloseStdin", req, &resp, kAgentCallTimeout);
}

Result<av::ListProcessesResponse> AgentClient::list_processes(const std::string& id) {
    av::ListProcessesRequest req;
    req.set_container_id(id);
    av::ListProcessesResponse resp;
    RUNVM_TRY(call("ListProcesses", req, &resp, kAgentCallTimeout));
    return resp;
}

Result<av::StatsContainerResponse> AgentClient::stats(const std::string& id) {
    av::StatsContainerRequest req;
    req.set_container_id(id);
    av::StatsContainerResponse resp;
    RUNVM_TRY(call("StatsContainer", req, &resp, kAgentCallTimeout));
    return resp;
}

Result<void> AgentClient::update(const std::string& id, const std::string& resources_json) {
    av::UpdateContainerRequest req;
    req.set_container_id(id);
    req.set_resources_json(resources_json);
    Empty resp;
    return call("UpdateContainer", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::pause(const std::string& id) {
    av::PauseContainerRequest req;
    req.set_container_id(id);
    Empty resp;
    return call("PauseContainer", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::resume(const std::string& id) {
    av::ResumeContainerRequest req;
    req.set_container_id(id);
    Empty resp;
    return call("ResumeContainer", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::remove(const std::string& id, bool force) {
    av::RemoveContainerRequest req;
    req.set_container_id(id);
    req.set_force(force);
    Empty resp;
    return call("RemoveContainer", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::destroy_sandbox(std::chrono::milliseconds timeout) {
    av::DestroySandboxRequest req;
    req.set_poweroff(true);
    Empty resp;
    return call("DestroySandbox", req, &resp, timeout);
}

Result<void> AgentClient::configure_network(const av::ConfigureNetworkRequest& req) {
    Empty resp;
    return call("ConfigureNetwork", req, &resp, kAgentCallTimeout);
}

Result<void> AgentClient::reinit(const av::ReinitRequest& req) {
    rpc::CallOptions opts;
    opts.timeout = kAgentCallTimeout;
    Empty resp;
    const rpc::Status st = client_.call(kAgentService, "Reinit", req, &resp, opts);
    if (st.code == rpc::kUnimplemented) {
        return Err(Error(ENOSYS, "agent Reinit: " + st.str()));
    }
    if (!st.ok()) {
        return Err(agent_error("Reinit", st));
    }
    return Ok();
}

Result<av::ReinitRequest> host_reinit_request(const std::string& vm_name) {
    std::string random(32, '\0');
    // 32 bytes never come back short from getrandom(2) once the host's pool is up (it blocks
    // until then); EINTR is the one error left to retry.
    ssize_t got = -1;
    do {
        got = ::getrandom(random.data(), random.size(), 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        return Err(Error::from_errno("getrandom 32 bytes"));
    }
    if (static_cast<size_t>(got) != random.size()) {
        return Err(Error::msg("getrandom: " + std::to_string(got) + " of 32 bytes"));
    }
    timespec now{};
    if (::clock_gettime(CLOCK_REALTIME, &now) < 0) {
        return Err(Error::from_errno("clock_gettime CLOCK_REALTIME"));
    }
    av::ReinitRequest req;
    req.set_host_random(std::move(random));
    req.set_realtime_ns(int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec);
    req.set_hostname(vm_name.substr(0, 64));
    return req;
}

void set_stdio_ports(av::StdioPorts* out, const StdioPortNumbers& ports, bool terminal) {
    out->set_stdin_port(ports.stdin_port);
    out->set_stdout_port(ports.stdout_port);
    out->set_stderr_port(ports.stderr_port);
    out->set_terminal(terminal);
}

} // namespace runvm::shim
