// runvm-netplumb: the network plumbing from a shell (tests, debugging, cleanup by hand):
// describe, plumb (persistent taps) or clean up a network namespace; prints JSON.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "shim/network/netns.hpp"
#include "shim/network/plumbing.hpp"

using namespace runvm;
using namespace runvm::network;

int main(int argc, char** argv) {
    CLI::App app{"runvm-netplumb: tap + tc mirroring for a network namespace"};
    app.require_subcommand(1);
    std::string netns;
    std::string prefix = "rvtap";
    for (auto* sub : {app.add_subcommand("describe", "print the interfaces as JSON"),
                      app.add_subcommand("plumb", "make persistent taps and mirror each interface"),
                      app.add_subcommand("cleanup", "remove our taps and qdiscs")}) {
        sub->add_option("netns", netns, "namespace file, e.g. /var/run/netns/x")->required();
        sub->add_option("--prefix", prefix, "tap name prefix");
    }
    CLI11_PARSE(app, argc, argv);
    auto fd = open_netns(netns);
    if (!fd) {
        std::fprintf(stderr, "runvm-netplumb: %s\n", fd.error().str().c_str());
        return 1;
    }
    const std::string verb = app.get_subcommands().front()->get_name();
    nlohmann::json out;
    if (verb == "describe") {
        auto d = describe(fd->get(), prefix);
        if (!d) {
            std::fprintf(stderr, "runvm-netplumb: %s\n", d.error().str().c_str());
            return 1;
        }
        out = to_json(*d);
    } else if (verb == "plumb") {
        auto p = plumb(fd->get(), PlumbOptions{prefix, true});
        if (!p) {
            std::fprintf(stderr, "runvm-netplumb: %s\n", p.error().str().c_str());
            return 1;
        }
        out = to_json(p->interfaces);
    } else {
        auto c = cleanup(fd->get(), prefix);
        if (!c) {
            std::fprintf(stderr, "runvm-netplumb: %s\n", c.error().str().c_str());
            return 1;
        }
        out = {{"taps_removed", c->taps_removed}, {"qdiscs_removed", c->qdiscs_removed}};
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
