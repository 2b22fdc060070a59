// runvm update --resources FILE|-: new runtime-spec LinuxResources for the container.
#include <iostream>
#include <iterator>
#include <memory>

#include "base/io.hpp"
#include "shim/cli/verb.hpp"
#include "shim/sandbox/container_ops.hpp"

namespace runvm::cli {

namespace {
struct UpdateArgs {
    std::string id;
    std::string resources;
    std::string memory;
    int64_t pids_limit = 0;
};
} // namespace

Runner setup_update(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<UpdateArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-r,--resources", a->resources, "LinuxResources JSON file, - for stdin");
    sub.add_option("--pids-limit", a->pids_limit, "maximum number of pids");
    return [a, &g] {
        nlohmann::json resources = nlohmann::json::object();
        if (!a->resources.empty()) {
            std::string text;
            if (a->resources == "-") {
                text.assign(std::istreambuf_iterator<char>(std::cin), {});
            } else {
                auto r = read_file(a->resources);
                if (!r) {
                    return fail(r.error().str());
                }
                text = *r;
            }
            resources = nlohmann::json::parse(text, nullptr, false);
            if (!resources.is_object()) {
                return fail("--resources: not a JSON object");
            }
        }
        if (a->pids_limit != 0) {
            resources["pids"]["limit"] = a->pids_limit;
        }
        auto r = shim::monitor_request(g.root, a->id, {{"op", "update"}, {"resources", resources}});
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
