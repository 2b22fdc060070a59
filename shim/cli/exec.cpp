// runvm exec: runs another process in a running container (runc exec's options).
#include <memory>

#include "base/io.hpp"
#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct ExecArgs {
    std::string id;
    std::string process_file;
    bool tty = false;
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    std::vector<std::string> env;
    std::string cwd;
    std::string user;
    std::vector<std::string> caps;
    int preserve_fds = 0;
};

// "uid[:gid]" -> process.user.
Result<void> apply_user(nlohmann::json& process, const std::string& user) {
    const auto colon = user.find(':');
    try {
        process["user"]["uid"] = std::stoul(user.substr(0, colon));
        if (colon != std::string::npos) {
            process["user"]["gid"] = std::stoul(user.substr(colon + 1));
        }
    } catch (const std::exception&) {
        return Err(Error::with_errno(EINVAL, "--user wants uid[:gid], got '" + user + "'"));
    }
    return Ok();
}

// runc's status for an exec that could not run (its "exec failed"); 1 stays for usage.
int exec_failed(const std::string& message) {
    fail(message);
    return 255;
}
} // namespace

Runner setup_exec(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<ExecArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-p,--process", a->process_file, "runtime-spec Process JSON file");
    sub.add_flag("-t,--tty", a->tty, "allocate a pseudo-TTY");
    sub.add_flag("-d,--detach", a->detach, "return once the process started");
    sub.add_option("--pid-file", a->pid_file, "file for the exec waiter's pid");
    sub.add_option("--console-socket", a->console_socket, "receives the pty master");
    sub.add_option("-e,--env", a->env, "KEY=VALUE to add to the environment");
    sub.add_option("--cwd", a->cwd, "working directory in the container");
    sub.add_option("-u,--user", a->user, "uid[:gid]");
    sub.add_option("-c,--cap", a->caps, "accepted");
    sub.add_option("--preserve-fds", a->preserve_fds, "accepted; only stdio is passed");
    return [a, &g] {
        shim::ExecOptions o;
        o.root = g.root;
        o.id = a->id;
        o.tty = a->tty;
        o.detach = a->detach;
        o.pid_file = a->pid_file;
        o.console_socket = a->console_socket;
        if (!a->process_file.empty()) {
            auto text = read_file(a->process_file);
            if (!text) {
                return exec_failed(text.error().str());
            }
            o.process = nlohmann::json::parse(*text, nullptr, false);
            if (!o.process.is_object()) {
                return exec_failed("--process " + a->process_file + ": not a JSON object");
            }
            o.tty = o.process.value("terminal", false);
        } else {
            if (g.exec_args.empty()) {
                return fail("exec: no command (give --process or the args)");
            }
            auto base = shim::exec_process_from_bundle(g.root, a->id);
            if (!base) {
                return exec_failed(base.error().str());
            }
            o.process = *base;
            o.process["args"] = g.exec_args;
            for (const auto& e : a->env) {
                o.process["env"].push_back(e);
            }
            if (!a->cwd.empty()) {
                o.process["cwd"] = a->cwd;
            }
            if (!a->user.empty()) {
                if (auto r = apply_user(o.process, a->user); !r) {
                    return exec_failed(r.error().str());
                }
            }
        }
        auto status = shim::exec_in_container(o);
        return status ? *status : exec_failed(status.error().str());
    };
}

} // namespace runvm::cli
