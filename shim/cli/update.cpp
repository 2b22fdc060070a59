// runvm update: new runtime-spec LinuxResources for the container, from --resources
// FILE|- and/or runc's per-resource flags (--memory 64m, --pids-limit 10, ...).
#include <iostream>
#include <iterator>
#include <map>
#include <memory>

#include "base/io.hpp"
#include "shim/cli/runc_flags.hpp"
#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct UpdateArgs {
    std::string id;
    std::string resources;
    std::map<const UpdateFlag*, std::string> flags; // as given; empty: not given
};
} // namespace

Runner setup_update(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<UpdateArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-r,--resources", a->resources,
                   "LinuxResources JSON file, - for stdin (the flags below override its fields)");
    for (const auto& f : update_flags()) {
        sub.add_option(f.names, a->flags[&f], f.help);
    }
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
        for (const auto& [flag, value] : a->flags) {
            if (auto r = apply_update_flag(*flag, value, resources); !r) {
                return fail(r.error().message());
            }
        }
        auto r = shim::monitor_request(g.root, a->id, {{"op", "update"}, {"resources", resources}});
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
