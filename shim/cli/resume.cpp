// runvm resume: thaws a paused container.
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

Runner setup_resume(CLI::App& sub, const GlobalOptions& g) {
    auto id = std::make_shared<std::string>();
    sub.add_option("container-id", *id, "container id")->required();
    return [id, &g] {
        auto r = shim::monitor_request(g.root, *id, {{"op", "resume"}});
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
