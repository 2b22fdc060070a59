// Stats: the guest's cgroup v2 figures for the container (from the agent through the
// monitor) as io.containerd.cgroups.v2.Metrics, the type containerd decodes for cgroup v2.
// memory's usage_limit is memory.max, or the VM's memory when that is smaller or "max".
#include "io/containerd/cgroups/v2/metrics.pb.h"
#include "shim/containerd/task_service.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::containerd {

rpc::Status TaskService::stats(const taskapi::StatsRequest& req, taskapi::StatsResponse& resp) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<TaskProcess> p;
        if (auto st = find_locked(req.id(), "", p); !st.ok()) {
            return st;
        }
    }
    auto r = shim::monitor_request(options_.runvm_root, req.id(), {{"op", "stats"}});
    if (!r) {
        return status_from_error(r.error());
    }
    const nlohmann::json& s = *r;
    io::containerd::cgroups::v2::Metrics m;
    m.mutable_pids()->set_current(s.value("pids_current", uint64_t{0}));
    m.mutable_pids()->set_limit(s.value("pids_limit", uint64_t{0}));
    m.mutable_cpu()->set_usage_usec(s.value("cpu_usage_usec", uint64_t{0}));
    m.mutable_cpu()->set_user_usec(s.value("cpu_user_usec", uint64_t{0}));
    m.mutable_cpu()->set_system_usec(s.value("cpu_system_usec", uint64_t{0}));
    m.mutable_memory()->set_usage(s.value("memory_current_bytes", uint64_t{0}));
    m.mutable_memory()->set_usage_limit(s.value("memory_limit_bytes", uint64_t{0}));
    auto* io = m.mutable_io()->add_usage();
    io->set_rbytes(s.value("io_read_bytes", uint64_t{0}));
    io->set_wbytes(s.value("io_write_bytes", uint64_t{0}));
    resp.mutable_stats()->set_type_url(m.GetDescriptor()->full_name());
    resp.mutable_stats()->set_value(m.SerializeAsString());
    return rpc::Status::Ok();
}

} // namespace runvm::containerd
