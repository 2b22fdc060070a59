// containerd.task.v2.Task's methods on the ttRPC server, each a typed wrapper.
#include "shim/containerd/task_service.hpp"

namespace runvm::containerd {

namespace {
constexpr const char* kService = "containerd.task.v2.Task";
} // namespace

void TaskService::register_with(rpc::Server& server) {
    using rpc::CallContext;
    using rpc::Status;
    server.register_typed<taskapi::CreateTaskRequest, taskapi::CreateTaskResponse>(
        kService, "Create",
        [this](const CallContext&, const auto& q, auto& r) { return create(q, r); });
    server.register_typed<taskapi::StartRequest, taskapi::StartResponse>(
        kService, "Start",
        [this](const CallContext&, const auto& q, auto& r) { return start(q, r); });
    server.register_typed<taskapi::StateRequest, taskapi::StateResponse>(
        kService, "State",
        [this](const CallContext&, const auto& q, auto& r) { return state(q, r); });
    server.register_typed<taskapi::WaitRequest, taskapi::WaitResponse>(
        kService, "Wait",
        [this](const CallContext& ctx, const auto& q, auto& r) { return wait(ctx, q, r); });
    server.register_typed<taskapi::KillRequest, Empty>(
        kService, "Kill", [this](const CallContext&, const auto& q, auto&) { return kill(q); });
    server.register_typed<taskapi::DeleteRequest, taskapi::DeleteResponse>(
        kService, "Delete",
        [this](const CallContext&, const auto& q, auto& r) { return remove(q, r); });
    server.register_typed<taskapi::PidsRequest, taskapi::PidsResponse>(
        kService, "Pids",
        [this](const CallContext&, const auto& q, auto& r) { return pids(q, r); });
    server.register_typed<taskapi::ExecProcessRequest, Empty>(
        kService, "Exec", [this](const CallContext&, const auto& q, auto&) { return exec(q); });
    server.register_typed<taskapi::ResizePtyRequest, Empty>(
        kService, "ResizePty",
        [this](const CallContext&, const auto& q, auto&) { return resize_pty(q); });
    server.register_typed<taskapi::CloseIORequest, Empty>(
        kService, "CloseIO",
        [this](const CallContext&, const auto& q, auto&) { return close_io(q); });
    server.register_typed<taskapi::UpdateTaskRequest, Empty>(
        kService, "Update", [this](const CallContext&, const auto& q, auto&) { return update(q); });
    server.register_typed<taskapi::StatsRequest, taskapi::StatsResponse>(
        kService, "Stats",
        [this](const CallContext&, const auto& q, auto& r) { return stats(q, r); });
    server.register_typed<taskapi::PauseRequest, Empty>(
        kService, "Pause", [this](const CallContext&, const auto& q, auto&) { return pause(q); });
    server.register_typed<taskapi::ResumeRequest, Empty>(
        kService, "Resume", [this](const CallContext&, const auto& q, auto&) { return resume(q); });
    server.register_typed<taskapi::ConnectRequest, taskapi::ConnectResponse>(
        kService, "Connect",
        [this](const CallContext&, const auto& q, auto& r) { return connect(q, r); });
    server.register_typed<taskapi::ShutdownRequest, Empty>(
        kService, "Shutdown",
        [this](const CallContext&, const auto& q, auto&) { return shutdown(q); });
    server.register_typed<taskapi::CheckpointTaskRequest, Empty>(
        kService, "Checkpoint",
        [this](const CallContext&, const auto& q, auto&) { return checkpoint(q); });
}

} // namespace runvm::containerd
