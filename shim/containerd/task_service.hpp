// TaskService: containerd's task v2 API (containerd.task.v2.Task) on the runvm sandbox. Each
// container runs in its own VM under a monitor process that `runvm create` leaves behind
// (the shim is its subreaper and gets its exit status); the other calls go to the monitor's
// control socket through the sandbox library.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "containerd/api/events/task.pb.h"
#include "containerd/api/runtime/task/v2/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/server.hpp"
#include "rpc/status.hpp"
#include "shim/containerd/event_publisher.hpp"
#include "shim/containerd/reaper.hpp"
#include "shim/containerd/task_state.hpp"

namespace runvm::containerd {

namespace taskapi = ::containerd::task::v2;
using google::protobuf::Empty;

struct TaskServiceOptions {
    std::string ns;
    std::string runvm_root;   // runvm --root for this namespace's containers
    std::string runvm_binary; // the runvm CLI (create boots the VM and forks the monitor)
    std::chrono::milliseconds create_timeout{300'000}; // runvm create bounds itself too
};

class TaskService {
public:
    TaskService(TaskServiceOptions options, EventPublisher& events, Reaper& reaper,
                std::function<void()> request_shutdown);
    ~TaskService();
    TaskService(const TaskService&) = delete;
    TaskService& operator=(const TaskService&) = delete;

    // Registers every method under containerd.task.v2.Task.
    void register_with(rpc::Server& server);

    rpc::Status create(const taskapi::CreateTaskRequest& req, taskapi::CreateTaskResponse& resp);
    rpc::Status start(const taskapi::StartRequest& req, taskapi::StartResponse& resp);
    rpc::Status state(const taskapi::StateRequest& req, taskapi::StateResponse& resp);
    rpc::Status wait(const rpc::CallContext& ctx, const taskapi::WaitRequest& req,
                     taskapi::WaitResponse& resp);
    rpc::Status kill(const taskapi::KillRequest& req);
    rpc::Status remove(const taskapi::DeleteRequest& req, taskapi::DeleteResponse& resp);
    rpc::Status pids(const taskapi::PidsRequest& req, taskapi::PidsResponse& resp);
    rpc::Status exec(const taskapi::ExecProcessRequest& req);
    rpc::Status resize_pty(const taskapi::ResizePtyRequest& req);
    rpc::Status close_io(const taskapi::CloseIORequest& req);
    rpc::Status update(const taskapi::UpdateTaskRequest& req);
    rpc::Status stats(const taskapi::StatsRequest& req, taskapi::StatsResponse& resp);
    rpc::Status pause(const taskapi::PauseRequest& req);
    rpc::Status resume(const taskapi::ResumeRequest& req);
    rpc::Status connect(const taskapi::ConnectRequest& req, taskapi::ConnectResponse& resp);
    rpc::Status shutdown(const taskapi::ShutdownRequest& req);
    rpc::Status checkpoint(const taskapi::CheckpointTaskRequest& req);

    // Number of containers this shim still holds (Shutdown exits only at zero).
    size_t container_count();

private:
    // Looks up a process; NotFound naming the container or exec otherwise. Needs mu_.
    rpc::Status find_locked(const std::string& id, const std::string& exec_id,
                            std::shared_ptr<TaskProcess>& out);
    Result<uint32_t> create_vm(TaskContainer& c, TaskProcess& init);
    rpc::Status start_exec(TaskProcess& p, const std::shared_ptr<TaskProcess>& holder);
    // Called from the reaper (init) or an exec's waiter with the exit status.
    void on_exit(const std::shared_ptr<TaskProcess>& p, int status);
    // The init's monitor exited: its record says whether the guest saw an OOM kill.
    void on_init_exit(const std::shared_ptr<TaskProcess>& p, int status);
    void publish_exit_locked(const TaskProcess& p);
    std::string control_socket(const std::string& id) const;

    TaskServiceOptions options_;
    EventPublisher& events_;
    Reaper& reaper_;
    std::function<void()> request_shutdown_;
    std::mutex mu_;
    std::condition_variable exited_cv_;
    std::map<std::string, TaskContainer> containers_;
};

// errno -> gRPC code, the way containerd's errdefs reads them back (NotFound, AlreadyExists,
// FailedPrecondition, ...).
rpc::Status status_from_error(const Error& e);

} // namespace runvm::containerd
