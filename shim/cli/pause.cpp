// runvm pause: freezes every process of the container (the agent's cgroup freezer).
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

Runner setup_pause(CLI::App& sub, const GlobalOptions& g) {
    auto id = std::make_shared<std::string>();
    sub.add_option("container-id", *id, "container id")->required();
    return [id, &g] {
        auto r = shim::monitor_request(g.root, *id, {{"op", "pause"}});
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
