// containerd-shim-runvm-v2: containerd's runtime v2 shim for runvm (runtime type
// io.containerd.runvm.v2); flag parsing and the choice of action only.
#include <cstdio>
#include <string>
#include <vector>

#include "shim/containerd/shim_actions.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto flags = runvm::containerd::parse_shim_flags(args);
    if (!flags) {
        std::fprintf(stderr, "containerd-shim-runvm-v2: %s\n", flags.error().str().c_str());
        return 1;
    }
    if (flags->version) {
        std::printf("%s:\n  Version:  0.1.0\n  Runtime:  io.containerd.runvm.v2\n", argv[0]);
        return 0;
    }
    if (flags->action == "start") {
        return runvm::containerd::run_start(*flags);
    }
    if (flags->action == "delete") {
        return runvm::containerd::run_delete(*flags);
    }
    return runvm::containerd::run_daemon(*flags);
}
