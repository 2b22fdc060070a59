// runvm state: runc's state JSON for one container.
#include <iostream>
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

Runner setup_state(CLI::App& sub, const GlobalOptions& g) {
    auto id = std::make_shared<std::string>();
    sub.add_option("container-id", *id, "container id")->required();
    return [id, &g] {
        auto j = shim::container_state(g.root, *id);
        if (!j) {
            return fail(j.error().str());
        }
        std::cout << j->dump(2) << "\n";
        return 0;
    };
}

} // namespace runvm::cli
