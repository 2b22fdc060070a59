// ConfigureNetwork: the host's plumbed interfaces, routes and DNS files applied in the guest.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "guest_agent/network/interface_setup.hpp"
#include "guest_agent/network/network_spec.hpp"
#include "guest_agent/service/agent_service.hpp"
#include "guest_agent/service/status_map.hpp"

namespace runvm::agent {

AgentService::Status
AgentService::configure_network(const Ctx&, const pb::ConfigureNetworkRequest& req, pb::Empty&) {
    auto spec = net::parse_network_request(req);
    if (!spec.ok()) {
        return to_status(spec.error(), "ConfigureNetwork");
    }
    // Host mode (tests) runs in the host's own network namespace: never touch it.
    if (::getpid() != 1) {
        return Status{rpc::kFailedPrecondition, "ConfigureNetwork: only as the guest's PID 1"};
    }
    std::lock_guard life(lifecycle_mu_);
    if (auto r = net::apply_network(*spec); !r.ok()) {
        return to_status(r.error(), "ConfigureNetwork");
    }
    spdlog::info("network: {} interface(s), {} route(s) configured", spec->interfaces.size(),
                 spec->routes.size());
    return Status::Ok();
}

} // namespace runvm::agent
