// The runvm CLI's verb table: each verb is one file that declares its options on a CLI11
// subcommand and returns the function that runs it (crun's layout).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace runvm::cli {

struct GlobalOptions {
    std::string root; // --root; main() fills in default_state_root (vm_dirs.hpp) when unset
    std::string log;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false; // linux.cgroupsPath is slice:prefix:name on the host
    // exec's process arguments, split off before CLI11 sees them (see main.cpp).
    std::vector<std::string> exec_args;
};

using Runner = std::function<int()>;

struct Verb {
    const char* name;
    const char* help;
    Runner (*setup)(CLI::App& sub, const GlobalOptions& global);
};

const std::vector<Verb>& verbs();

// Set by main when --log names a file: errors then also go there (containerd reads it).
extern bool log_to_file;

// Prints "runvm: <message>" to stderr and logs it (containerd reads --log on failure).
int fail(const std::string& message);

} // namespace runvm::cli
