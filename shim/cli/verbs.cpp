// The verb table, in `runvm --help` order.
#include <spdlog/spdlog.h>

#include "shim/cli/verb.hpp"

namespace runvm::cli {

Runner setup_create(CLI::App&, const GlobalOptions&);
Runner setup_start(CLI::App&, const GlobalOptions&);
Runner setup_run(CLI::App&, const GlobalOptions&);
Runner setup_state(CLI::App&, const GlobalOptions&);
Runner setup_kill(CLI::App&, const GlobalOptions&);
Runner setup_delete(CLI::App&, const GlobalOptions&);
Runner setup_exec(CLI::App&, const GlobalOptions&);
Runner setup_ps(CLI::App&, const GlobalOptions&);
Runner setup_list(CLI::App&, const GlobalOptions&);
Runner setup_pause(CLI::App&, const GlobalOptions&);
Runner setup_resume(CLI::App&, const GlobalOptions&);
Runner setup_update(CLI::App&, const GlobalOptions&);
Runner setup_events(CLI::App&, const GlobalOptions&);
Runner setup_features(CLI::App&, const GlobalOptions&);
Runner setup_spec(CLI::App&, const GlobalOptions&);
Runner setup_template(CLI::App&, const GlobalOptions&);

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> table = {
        {"create", "create a container (its VM boots, its process waits for start)", setup_create},
        {"start", "start the process of a created container", setup_start},
        {"run", "create and start a container, wait for it, delete it", setup_run},
        {"state", "print a container's state as JSON", setup_state},
        {"kill", "send a signal to a container's process (or all of them)", setup_kill},
        {"delete", "delete a container and its VM", setup_delete},
        {"exec", "run another process in a running container", setup_exec},
        {"ps", "list the processes of a container", setup_ps},
        {"list", "list containers", setup_list},
        {"pause", "freeze every process of a container", setup_pause},
        {"resume", "thaw a paused container", setup_resume},
        {"update", "change a container's resource limits", setup_update},
        {"events", "print a container's stats and events", setup_events},
        {"features", "print the runtime's features (runtime-spec features.md)", setup_features},
        {"spec", "write a default config.json", setup_spec},
        {"template", "manage the booted VMs containers start in (build, list, rm)", setup_template},
    };
    return table;
}

bool log_to_file = false;

int fail(const std::string& message) {
    if (log_to_file) {
        spdlog::error("{}", message);
    }
    std::fprintf(stderr, "runvm: %s\n", message.c_str());
    return 1;
}

} // namespace runvm::cli
