// runvm-launch: the launcher on the host, `runc run`-like (differential tests, benchmark).
#include <CLI/CLI.hpp>

#include "base/log.hpp"
#include "guest_agent/launcher/run_bundle.hpp"

int main(int argc, char** argv) {
    CLI::App app{"runvm-launch: run an OCI bundle with runvm's in-guest launcher, on this host"};
    runvm::agent::RunBundleOptions o;
    app.require_subcommand(1);
    auto* run = app.add_subcommand("run", "create, start and wait for a container");
    run->add_option("-b,--bundle", o.bundle, "bundle directory (config.json, rootfs)");
    run->add_option("--pid-file", o.pid_file, "write the container's pid here");
    run->add_option("--cgroup-parent", o.cgroup_parent, "cgroup v2 parent, under the mount");
    run->add_option("id", o.id, "container id")->required();
    CLI11_PARSE(app, argc, argv);
    // Warnings go to stderr: the container's own output is on stdout.
    runvm::LogOptions log;
    log.level = "warn";
    log.name = "runvm-launch";
    if (auto r = runvm::init_logging(log); !r.ok()) {
        std::fprintf(stderr, "runvm-launch: %s\n", r.error().str().c_str());
        return 1;
    }
    return runvm::agent::run_bundle(o);
}
