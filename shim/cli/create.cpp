// runvm create: boots the container's VM and creates its process, which waits for start.
#include <memory>

#include <limits.h>
#include <stdlib.h>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct CreateArgs {
    std::string id;
    std::string bundle = ".";
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool no_new_keyring = false;
    int preserve_fds = 0;
};
} // namespace

// Shared with run.cpp: the monitor's options from the CLI's.
Result<shim::MonitorOptions> monitor_options(const GlobalOptions& g, const std::string& id,
                                             const std::string& bundle, const std::string& pid_file,
                                             const std::string& console_socket) {
    shim::MonitorOptions o;
    o.root = g.root;
    o.id = id;
    char resolved[PATH_MAX];
    if (!::realpath(bundle.c_str(), resolved)) {
        return Err(Error::from_errno("bundle " + bundle));
    }
    o.bundle = resolved;
    if (!pid_file.empty() && pid_file[0] != '/') {
        char cwd[PATH_MAX];
        o.pid_file = std::string(::getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + pid_file;
    } else {
        o.pid_file = pid_file;
    }
    o.console_socket = console_socket;
    o.systemd_cgroup = g.systemd_cgroup;
    RUNVM_ASSIGN_OR_RETURN(o.settings, shim::load_settings());
    return o;
}

Runner setup_create(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<CreateArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-b,--bundle", a->bundle, "bundle directory (config.json, rootfs)");
    sub.add_option("--pid-file", a->pid_file, "file for the monitor's pid");
    sub.add_option("--console-socket", a->console_socket,
                   "Unix socket that receives the pty master (process.terminal)");
    sub.add_flag("--no-pivot", a->no_pivot, "accepted (the guest agent decides)");
    sub.add_flag("--no-new-keyring", a->no_new_keyring, "accepted");
    sub.add_option("--preserve-fds", a->preserve_fds, "accepted; only stdio is passed");
    return [a, &g] {
        auto o = monitor_options(g, a->id, a->bundle, a->pid_file, a->console_socket);
        if (!o) {
            return fail(o.error().str());
        }
        auto pid = shim::create_container(*o);
        return pid ? 0 : fail(pid.error().str());
    };
}

} // namespace runvm::cli
