// Hook runner: fork + execve, state on a pipe, pidfd poll for the timeout.
#include "guest_agent/launcher/hooks.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

namespace {
std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

Result<void> run_hook(const oci::Hook& hook, const std::string& state, const std::string& name) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) {
        return Err(Error::from_errno("pipe for " + name));
    }
    UniqueFd rd(p[0]), wr(p[1]);
    std::vector<std::string> args = hook.args.value_or(std::vector<std::string>{hook.path});
    if (args.empty()) {
        args.push_back(hook.path);
    }
    std::vector<std::string> env = hook.env.value_or(std::vector<std::string>{});
    auto argv = c_strings(args);
    auto envp = c_strings(env);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return Err(Error::from_errno("fork " + name));
    }
    if (pid == 0) {
        ::dup2(rd.get(), 0);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    rd.reset();
    // A hook that exits without reading its stdin is fine; EPIPE is ignored.
    (void)write_all(wr.get(), state.data(), state.size(), name.c_str());
    wr.reset();
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    const int timeout_ms = hook.timeout ? static_cast<int>(*hook.timeout * 1000) : -1;
    if (pidfd) {
        pollfd pf{pidfd.get(), POLLIN, 0};
        int n;
        do {
            n = ::poll(&pf, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            return Err(Error::with_errno(ETIMEDOUT, name + ": timed out after " +
                                                        std::to_string(*hook.timeout) + "s"));
        }
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) < 0) {
        return Err(Error::from_errno("waitpid " + name));
    }
    if (WIFSIGNALED(status)) {
        return Err(Error::msg(name + ": killed by signal " + std::to_string(WTERMSIG(status))));
    }
    if (WEXITSTATUS(status) != 0) {
        return Err(Error::msg(name + ": exit status " + std::to_string(WEXITSTATUS(status))));
    }
    return Ok();
}
} // namespace

std::string hook_state_json(const std::string& id, const std::string& status, int pid,
                            const std::string& bundle) {
    nlohmann::json j = {
        {"ociVersion", "1.0.2"}, {"id", id}, {"status", status}, {"pid", pid}, {"bundle", bundle}};
    return j.dump();
}

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                       const char* kind) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        RUNVM_TRY(run_hook(hooks[i], state_json,
                           std::string(kind) + " hook " + std::to_string(i) + " " + hooks[i].path));
    }
    return Ok();
}

} // namespace runvm::agent
