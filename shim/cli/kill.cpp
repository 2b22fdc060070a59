// runvm kill: sends a signal (name or number, default SIGTERM) to the container's process.
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct KillArgs {
    std::string id;
    std::string signal = "SIGTERM";
    bool all = false;
};
} // namespace

Runner setup_kill(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<KillArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("signal", a->signal, "signal name or number");
    sub.add_flag("-a,--all", a->all, "signal every process of the container");
    return [a, &g] {
        auto sig = shim::parse_signal(a->signal);
        if (!sig) {
            return fail(sig.error().str());
        }
        auto r = shim::kill_container(g.root, a->id, *sig, a->all);
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
