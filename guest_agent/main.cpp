// runvm-agent: PID 1 of the guest, or `--host` mode on a host for tests. As PID 1 it takes
// its arguments from the kernel command line after `--` (e.g. `-- --log-level debug`).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include "guest_agent/service/agent_server.hpp"

int main(int argc, char** argv) {
    runvm::agent::AgentRunOptions o;
    if (::getpid() != 1 || argc > 1) {
        CLI::App app{"runvm-agent: the guest agent; --host runs it on this host"};
        app.add_flag("--host", o.host_mode, "host mode: Unix sockets instead of vsock");
        app.add_option("--socket", o.socket_path, "host mode: ttRPC socket path");
        app.add_option("--stdio-dir", o.stdio_dir, "host mode: dir of the stdio stream sockets");
        app.add_option("--state-dir", o.state_dir, "rootfs mounts and private cgroup2");
        app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error");
        CLI11_PARSE(app, argc, argv);
        const bool guest_init = ::getpid() == 1 && !o.host_mode;
        if (!guest_init && (!o.host_mode || o.socket_path.empty() || o.stdio_dir.empty())) {
            std::fprintf(stderr, "runvm-agent: not PID 1: use --host --socket P --stdio-dir D\n");
            return 2;
        }
    }
    return runvm::agent::run_agent(o);
}
