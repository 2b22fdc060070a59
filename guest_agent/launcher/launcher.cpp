// Parent side of the create/start handshake.
#include "guest_agent/launcher/launcher.hpp"

#include <cerrno>
#include <csignal>
#include <mutex>

#include <unistd.h>

#include "base/child_process.hpp"
#include "base/scope_guard.hpp"
#include "guest_agent/launcher/container_init.hpp"

namespace runvm::agent {

namespace {
constexpr const char* kStepSeparator = ": ";
// A fork in another thread between socketpair and closing the child end would hold that end
// open until its own exec, hiding this container's exec (EOF) from start().
std::mutex g_fork_mutex;
} // namespace

template <typename ChildMain, typename IdMaps>
Result<ContainerProcess> ContainerProcess::launch(const std::string& what, ChildMain&& child_main,
                                                  IdMaps&& id_maps, Reaper& reaper,
                                                  std::chrono::milliseconds timeout) {
    std::unique_lock fork_lock(g_fork_mutex);
    RUNVM_ASSIGN_OR_RETURN(auto ends, SyncChannel::create_pair());
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture
    // a binding in the lambda below.
    auto& parent_end = ends.first;
    auto& child_end = ends.second;
    RUNVM_ASSIGN_OR_RETURN(auto forked, ChildProcess::fork_child(what, [&] {
                               parent_end.close();
                               child_main(child_end);
                               return 1;
                           }));
    // The agent's Reaper is the one caller of waitpid in the agent: it reaps the
    // intermediate, and the cleanup below waits for it there.
    const pid_t mid = forked.release();
    child_end.close();
    fork_lock.unlock();
    ContainerProcess c;
    c.sync_ = std::move(parent_end);
    bool mid_reaped = false;
    bool created = false;
    auto cleanup = ScopeGuard([&] {
        ::kill(mid, SIGKILL);
        if (c.pid_ > 0) {
            ::kill(c.pid_, SIGKILL);
            (void)reaper.wait(c.pid_, timeout);
            c.pid_ = -1;
        }
        if (!mid_reaped) {
            (void)reaper.wait(mid, timeout);
        }
    });
    for (;;) {
        RUNVM_ASSIGN_OR_RETURN(auto r, c.sync_.receive(timeout));
        if (r.closed) {
            return Err(Error::with_errno(ECHILD, "launcher: " + what + " exited during setup"));
        }
        switch (r.msg.type) {
        case SyncType::need_id_maps:
            RUNVM_TRY(id_maps(mid));
            RUNVM_TRY(c.sync_.send_type(SyncType::id_maps_done));
            break;
        case SyncType::init_pid:
            c.pid_ = r.msg.value;
            if (!created) {
                break;
            }
            [[fallthrough]]; // the child reported `created` before its parent sent the pid
        case SyncType::created: {
            created = true;
            if (c.pid_ <= 0) {
                break; // the intermediate's init_pid is still on its way
            }
            // The intermediate exits right after reporting the pid; reaping it is what makes
            // the init our (the subreaper's) child.
            auto rec = reaper.wait(mid, timeout);
            mid_reaped = rec.has_value();
            if (!mid_reaped) {
                return Err(Error::with_errno(ETIMEDOUT, "launcher: wait for intermediate process"));
            }
            cleanup.dismiss();
            return c;
        }
        case SyncType::console:
            c.console_ = std::move(r.fd);
            break;
        case SyncType::error:
            return Err(sync_error(r.msg));
        default:
            return Err(Error::with_errno(EPROTO, "launcher: unexpected message from " + what));
        }
    }
}

Result<ContainerProcess> ContainerProcess::create(const LaunchPlan& plan, Reaper& reaper,
                                                  std::chrono::milliseconds timeout) {
    auto id_maps = [&plan](pid_t mid) -> Result<void> {
        const auto& l = plan.spec.linux;
        return write_id_maps(mid, l->uid_mappings.value_or(std::vector<oci::IdMapping>{}),
                             l->gid_mappings.value_or(std::vector<oci::IdMapping>{}));
    };
    return launch(
        "container init " + plan.id,
        [&plan](const SyncChannel& sync) { run_intermediate(plan, sync); }, id_maps, reaper,
        timeout);
}

Result<ContainerProcess> ContainerProcess::create_exec(const ExecPlan& plan, Reaper& reaper,
                                                       std::chrono::milliseconds timeout) {
    return launch(
        "exec process", [&plan](const SyncChannel& sync) { run_exec_intermediate(plan, sync); },
        [](pid_t) -> Result<void> { return Err(Error::with_errno(EPROTO, "exec: no id maps")); },
        reaper, timeout);
}

ContainerProcess::~ContainerProcess() {
    // A created but never started init waits on the sync channel; closing it ends it.
    sync_.close();
}

Result<void> ContainerProcess::start(std::chrono::milliseconds timeout) {
    if (started_) {
        return Err(Error::with_errno(EALREADY, "start: container already started"));
    }
    RUNVM_TRY(sync_.send_type(SyncType::start));
    started_ = true;
    RUNVM_ASSIGN_OR_RETURN(auto r, sync_.receive(timeout));
    if (r.closed) {
        sync_.close();
        return Ok(); // close-on-exec closed the init's end: the process runs
    }
    sync_.close();
    if (r.msg.type == SyncType::error) {
        return Err(sync_error(r.msg));
    }
    return Err(Error::with_errno(EPROTO, "start: unexpected message from init"));
}

LaunchError ContainerProcess::describe(const Error& e) {
    LaunchError le{"launcher", e, 1};
    const std::string& m = e.message();
    const auto sep = m.find(kStepSeparator);
    if (sep != std::string::npos) {
        le.step = m.substr(0, sep);
        le.error = Error::with_errno(e.code(), m.substr(sep + 2));
    }
    if (le.step == "exec" || le.error.message().rfind("exec: \"", 0) == 0) {
        le.exit_code = e.code() == EACCES ? 126 : 127;
    }
    return le;
}

} // namespace runvm::agent
