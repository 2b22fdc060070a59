// runvm delete: removes a stopped container (--force: a running one too, VM and all).
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct DeleteArgs {
    std::string id;
    bool force = false;
};
} // namespace

Runner setup_delete(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<DeleteArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_flag("-f,--force", a->force, "kill the container first when it runs");
    return [a, &g] {
        auto r = shim::delete_container(g.root, a->id, a->force);
        // runc: delete --force of a container that does not exist succeeds.
        if (!r && a->force && r.error().code() == ENOENT) {
            return 0;
        }
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
