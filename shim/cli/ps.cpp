// runvm ps: the container's processes as the guest agent sees them (table or json).
#include <cstdio>
#include <iostream>
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/sandbox/container_ops.hpp"

namespace runvm::cli {

namespace {
struct PsArgs {
    std::string id;
    std::string format = "table";
    std::vector<std::string> ps_args;
};
} // namespace

Runner setup_ps(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<PsArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-f,--format", a->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    sub.add_option("ps-args", a->ps_args, "accepted (guest pids are listed)");
    return [a, &g] {
        auto r = shim::monitor_request(g.root, a->id, {{"op", "ps"}});
        if (!r) {
            return fail(r.error().str());
        }
        const auto& procs = (*r)["processes"];
        if (a->format == "json") {
            nlohmann::json pids = nlohmann::json::array();
            for (const auto& p : procs) {
                pids.push_back(p["pid"]);
            }
            std::cout << pids.dump() << "\n";
            return 0;
        }
        std::printf("%-8s %s\n", "PID", "EXEC");
        for (const auto& p : procs) {
            const std::string exec_id = p.value("exec_id", "");
            std::printf("%-8u %s\n", p["pid"].get<unsigned>(),
                        exec_id.empty() ? "-" : exec_id.c_str());
        }
        return 0;
    };
}

} // namespace runvm::cli
