// runvm-broker: serves one sandbox's devices over vhost-user (see docs/broker.md).
#include <CLI/CLI.hpp>

#include "base/log.hpp"
#include "broker/runtime/broker.hpp"

int main(int argc, char** argv) {
    runvm::broker::BrokerOptions options;
    runvm::LogOptions log;
    log.name = "runvm-broker";
    bool no_harden = false;
    CLI::App app{"runvm-broker: vhost-user device backends for one sandbox"};
    app.add_option("--vsock", options.vsock, "<vhost-user sock>,uds=<host socket>,cid=<guest cid>");
    app.add_option("--blk", options.blk,
                   "<vhost-user sock>,path=<raw image>[,ro][,nodiscard][,serial=<id>]");
    app.add_option("--console", options.console, "<vhost-user sock>,log=<file>");
    app.add_option("--net", options.net,
                   "<vhost-user sock>,tap=<name>|fd=<inherited tap fd>[,mac=<xx:..>][,mtu=<n>]"
                   "[,nooffload]");
    app.add_option("--fs", options.fs,
                   "<vhost-user sock>,dir=<shared dir>,tag=<mount tag>"
                   "[,cache=none|auto|always][,ro]");
    app.add_option("--log-level", log.level, "trace, debug, info, warn, error, off");
    app.add_option("--log-file", log.path, "log here instead of stderr");
    app.add_flag("--no-harden", no_harden, "keep capabilities and skip seccomp (debugging)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return runvm::broker::EXIT_USAGE;
    }
    options.harden = !no_harden;
    if (auto r = runvm::init_logging(log); !r) {
        std::fprintf(stderr, "runvm-broker: %s\n", r.error().str().c_str());
        return runvm::broker::EXIT_USAGE;
    }
    return runvm::broker::run_broker(options);
}
