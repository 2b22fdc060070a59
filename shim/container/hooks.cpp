// fork/exec of one hook with the state on its stdin, a deadline, and kill+reap on expiry.
#include "shim/container/hooks.hpp"

#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

namespace {

Result<void> run_hook(const oci::Hook& hook, const std::string& what, const std::string& state,
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
    const pid_t pid = ::fork();
    if (pid < 0) {
        return Err(Error::from_errno("fork for " + what));
    }
    if (pid == 0) {
        ::dup2(state_fd.get(), 0);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    state_fd.reset();
    const auto timeout = std::chrono::seconds(hook.timeout.value_or(default_timeout_s));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return Err(Error::from_errno("waitpid " + what));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return Err(Error::with_errno(ETIMEDOUT, what + " (" + hook.path +
                                                        "): timed out after " +
                                                        std::to_string(timeout.count()) + " s"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
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

Result<void> run_hooks(const std::optional<std::vector<oci::Hook>>& hooks, const char* kind,
                       const std::string& state_json, int default_timeout_s) {
    if (!hooks) {
        return Ok();
    }
    for (size_t i = 0; i < hooks->size(); ++i) {
        const std::string what = std::string(kind) + " hook " + std::to_string(i);
        RUNVM_TRY(run_hook((*hooks)[i], what, state_json, default_timeout_s));
    }
    return Ok();
}

} // namespace runvm::shim
