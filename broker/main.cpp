// runvm-broker: serves one sandbox's devices over vhost-user (see docs/broker.md).
#include <CLI/CLI.hpp>

#include "base/log.hpp"
#include "broker/runtime/broker.hpp"
#include "broker/runtime/device_registry.hpp"

int main(int argc, char** argv) {
    runvm::broker::BrokerOptions options;
    runvm::LogOptions log;
    log.name = "runvm-broker";
    bool no_harden = false;
    CLI::App app{"runvm-broker: vhost-user device backends for one sandbox"};
    for (const auto& kind : runvm::broker::device_registry()) {
        app.add_option(std::string("--") + kind.name, options.devices[kind.name], kind.usage);
    }
    app.add_option("--log-level", log.level, "trace, debug, info, warn, error, off");
    app.add_option("--log-file", log.path, "log here instead of stderr");
    app.add_flag("--no-harden", no_harden, "keep capabilities and skip seccomp (debugging)");
    app.add_flag("--jailed", options.jailed,
                 "started by runvm-jail: serve from its mount namespace, make none");
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
