// One hook: its state in a memfd on stdin, fork + execve, a deadline, kill and reap on expiry.
#include "oci/hooks_runner.hpp"

#include <chrono>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::oci {

namespace {

Result<void> run_hook(const Hook& hook, const std::string& what, const std::string& state,
                      int default_timeout_s) {
    std::vector<std::string> args = hook.args.value_or(std::vector<std::string>{hook.path});
    if (args.empty()) {
        args.push_back(hook.path);
    }
    std::vector<std::string> env = hook.env.value_or(std::vector<std::string>{});
    std::vector<char*> argv;
    std::vector<char*> envp;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    // The state goes in a memfd rather than a pipe: a hook that never reads its stdin can
    // neither block us on a full pipe nor raise SIGPIPE in a caller that did not ignore it.
    UniqueFd state_fd(::memfd_create("runvm-hook-state", MFD_CLOEXEC));
    if (!state_fd) {
        return Err(Error::from_errno("memfd_create for " + what));
    }
    RUNVM_TRY(write_all(state_fd.get(), state.data(), state.size(), what.c_str()));
    if (::lseek(state_fd.get(), 0, SEEK_SET) != 0) {
        return Err(Error::from_errno("lseek state of " + what));
    }
    RUNVM_ASSIGN_OR_RETURN(auto child, ChildProcess::fork_child("for " + what, [&] {
                               ::dup2(state_fd.get(), 0);
                               ::execve(hook.path.c_str(), argv.data(), envp.data());
                               return 127;
                           }));
    state_fd.reset();
    const auto timeout = std::chrono::seconds(hook.timeout.value_or(default_timeout_s));
    RUNVM_ASSIGN_OR_RETURN(auto exited,
                           child.wait_until(std::chrono::steady_clock::now() + timeout));
    if (!exited) {
        child.kill_and_reap();
        return Err(Error::with_errno(ETIMEDOUT, what + " (" + hook.path + "): timed out after " +
                                                    std::to_string(timeout.count()) + " s"));
    }
    const int status = *exited;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return Ok();
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        return Err(Error::msg(what + ": cannot execute " + hook.path));
    }
    return Err(Error::msg(what + " (" + hook.path + ") failed: " +
                          (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                             : "signal " + std::to_string(WTERMSIG(status)))));
}

} // namespace

std::string hook_state_json(const std::string& id, const std::string& status, int pid,
                            const std::string& bundle) {
    nlohmann::json j = {
        {"ociVersion", "1.0.2"}, {"id", id}, {"status", status}, {"pid", pid}, {"bundle", bundle}};
    return j.dump();
}

Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        const std::string what = std::string(kind) + " hook " + std::to_string(i);
        RUNVM_TRY(run_hook(hooks[i], what, state_json, default_timeout_s));
    }
    return Ok();
}

Result<void> run_hooks(const std::optional<std::vector<Hook>>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s) {
    if (!hooks) {
        return Ok();
    }
    return run_hooks(*hooks, kind, state_json, default_timeout_s);
}

Result<void> run_create_hooks(const std::optional<Hooks>& hooks, const std::string& state_json) {
    if (!hooks) {
        return Ok();
    }
    RUNVM_TRY(run_hooks(hooks->prestart, "prestart", state_json));
    return run_hooks(hooks->create_runtime, "createRuntime", state_json);
}

} // namespace runvm::oci
