// runvm-jail: runs one program as an unprivileged user in empty namespaces, a minimal root and
// a seccomp allow-list (jail/jail.hpp); a failed step exits 125 with its name.
#include <cstdio>
#include <string>
#include <vector>

#include "jail/jail.hpp"
#include "jail/jail_spec.hpp"

int main(int argc, char** argv) {
    using namespace runvm::jail;
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto spec = parse_jail_args(args);
    if (!spec) {
        std::fprintf(stderr, "runvm-jail: %s\n%s", spec.error().str().c_str(), kJailUsage.data());
        return kJailFailureStatus;
    }
    const auto ran = run_jail(*spec);
    std::fprintf(stderr, "runvm-jail: %s\n", ran.error().str().c_str());
    return kJailFailureStatus;
}
