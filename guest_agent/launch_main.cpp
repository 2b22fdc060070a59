// runvm-launch: the launcher on the host, `runc run`-like (differential tests, benchmark).
#include <CLI/CLI.hpp>

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
    return runvm::agent::run_bundle(o);
}
