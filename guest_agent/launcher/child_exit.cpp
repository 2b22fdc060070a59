// How a launcher child ends: a failed step reported to the launcher, or the exec.
#include "guest_agent/launcher/child_exit.hpp"

#include <cerrno>
#include <vector>

#include <unistd.h>

namespace runvm::agent {

void fail_step(const SyncChannel& sync, const char* step, const Error& e, int code) {
    sync.send_error(step, e);
    ::_exit(code);
}

void exec_target(const SyncChannel& sync, ExecTarget& target) {
    std::vector<char*> argv, envp;
    for (auto& a : target.args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    for (auto& e : target.env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    ::execve(target.path.c_str(), argv.data(), envp.data());
    fail_step(sync, "exec", Error::from_errno("exec \"" + target.args[0] + "\""),
              errno == ENOENT ? 127 : 126);
}

} // namespace runvm::agent
