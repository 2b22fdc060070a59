// runvm: the runc-compatible command line; argument parsing only, the work is in shim/sandbox.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/log.hpp"
#include "shim/cli/verb.hpp"
#include "shim/sandbox/vm_dirs.hpp"

namespace {

// `runvm exec [options] <id> <command> [args...]`: the command's own options (sh -c) must
// not reach CLI11, so everything after the id is split off here.
std::vector<std::string> split_exec_args(std::vector<std::string>& args) {
    static const std::set<std::string> takes_value = {"--process",  "-p",
                                                      "--pid-file", "--console-socket",
                                                      "--env",      "-e",
                                                      "--cwd",      "--user",
                                                      "-u",         "--additional-gids",
                                                      "-g",         "--process-label",
                                                      "--apparmor", "--cap",
                                                      "-c",         "--preserve-fds",
                                                      "--cgroup",   "--root",
                                                      "--log",      "--log-format",
                                                      "--criu"};
    size_t verb = 1;
    while (verb < args.size() && args[verb] != "exec") {
        if (args[verb].rfind("-", 0) != 0) {
            return {}; // another verb
        }
        verb += takes_value.count(args[verb]) && args[verb].find('=') == std::string::npos ? 2 : 1;
    }
    for (size_t i = verb + 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            continue;
        }
        if (a.rfind("-", 0) == 0) {
            if (takes_value.count(a)) {
                ++i;
            }
            continue;
        }
        std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
        if (!rest.empty() && rest.front() == "--") {
            rest.erase(rest.begin());
        }
        args.resize(i + 1);
        return rest;
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    runvm::cli::GlobalOptions global;
    std::vector<std::string> args(argv, argv + argc);
    global.exec_args = split_exec_args(args);

    CLI::App app{"runvm: an OCI runtime that runs each container in its own microVM"};
    app.set_version_flag("-v,--version", "runvm 0.1.0 (runtime-spec 1.2.0)");
    app.require_subcommand(1);
    app.add_option("--root", global.root,
                   "directory for container state (default: /run/runvm as root, "
                   "$XDG_RUNTIME_DIR/runvm otherwise)");
    app.add_option("--log", global.log, "log file (default: stderr)");
    app.add_option("--log-format", global.log_format, "text or json")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", global.debug, "debug logging");
    app.add_flag("--systemd-cgroup", global.systemd_cgroup,
                 "accepted for runc compatibility (cgroups live in the guest)");
    runvm::cli::Runner runner;
    for (const auto& verb : runvm::cli::verbs()) {
        CLI::App* sub = app.add_subcommand(verb.name, verb.help);
        auto run = verb.setup(*sub, global);
        sub->callback([&runner, run] { runner = run; });
    }
    std::vector<const char*> cargs;
    for (const auto& a : args) {
        cargs.push_back(a.c_str());
    }
    try {
        app.parse(static_cast<int>(cargs.size()), const_cast<char**>(cargs.data()));
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    runvm::LogOptions log;
    log.level = global.debug ? "debug" : "warn";
    log.format = global.log_format == "json" ? runvm::LogFormat::json : runvm::LogFormat::text;
    log.path = global.log;
    runvm::cli::log_to_file = !global.log.empty();
    if (auto r = runvm::init_logging(log); !r) {
        std::fprintf(stderr, "runvm: %s\n", r.error().str().c_str());
        return 1;
    }
    // spec and features touch no container state, so they need no XDG_RUNTIME_DIR.
    const std::string verb = app.get_subcommands().front()->get_name();
    if (global.root.empty() && verb != "spec" && verb != "features") {
        auto root = runvm::shim::default_state_root(::geteuid(), std::getenv("XDG_RUNTIME_DIR"));
        if (!root) {
            return runvm::cli::fail(root.error().str());
        }
        global.root = *root;
    }
    return runner ? runner() : 1;
}
