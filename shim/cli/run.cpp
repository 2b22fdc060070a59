// runvm run: create + start + wait in this process; exits with the container's status.
#include <memory>

#include <spdlog/spdlog.h>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/monitor.hpp"

namespace runvm::cli {

Result<shim::MonitorOptions> monitor_options(const GlobalOptions& g, const std::string& id,
                                             const std::string& bundle, const std::string& pid_file,
                                             const std::string& console_socket);

namespace {
struct RunArgs {
    std::string id;
    std::string bundle = ".";
    std::string pid_file;
    std::string console_socket;
    bool detach = false;
    bool keep = false;
    bool no_pivot = false;
    bool no_new_keyring = false;
};
} // namespace

Runner setup_run(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<RunArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-b,--bundle", a->bundle, "bundle directory");
    sub.add_option("--pid-file", a->pid_file, "file for the monitor's pid");
    sub.add_option("--console-socket", a->console_socket, "receives the pty master");
    sub.add_flag("-d,--detach", a->detach, "return once started");
    sub.add_flag("--keep", a->keep, "do not delete the container after it exits");
    sub.add_flag("--no-pivot", a->no_pivot, "accepted");
    sub.add_flag("--no-new-keyring", a->no_new_keyring, "accepted");
    return [a, &g] {
        auto o = monitor_options(g, a->id, a->bundle, a->pid_file, a->console_socket);
        if (!o) {
            return fail(o.error().str());
        }
        if (a->detach) {
            auto pid = shim::create_container(*o);
            if (!pid) {
                return fail(pid.error().str());
            }
            auto started = shim::start_container(g.root, a->id);
            return started ? 0 : fail(started.error().str());
        }
        if (auto claimed = shim::claim_container_id(g.root, a->id); !claimed) {
            return fail(claimed.error().str()); // another container's: nothing of it is touched
        }
        o->start_immediately = true;
        std::string create_error;
        const int status = shim::run_monitor(*o, &create_error);
        if (!create_error.empty()) {
            return fail(create_error); // runc's status for a run that never created: 1
        }
        spdlog::debug("run {}: monitor done, status {}", a->id, status);
        if (!a->keep) {
            if (auto r = shim::delete_container(g.root, a->id, true); !r) {
                spdlog::debug("run: delete {}: {}", a->id, r.error().str());
            }
        }
        return status;
    };
}

} // namespace runvm::cli
