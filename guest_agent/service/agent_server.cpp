// run_agent: dispatch to the agent's mode, and the process setup both modes share.
#include "guest_agent/service/agent_server.hpp"

#include <csignal>

#include <unistd.h>

#include "base/log.hpp"
#include "guest_agent/service/agent_modes.hpp"

namespace runvm::agent {

void prepare_agent_process(const AgentRunOptions& options, const char* default_level) {
    // Before any thread: every thread inherits the mask, SIGCHLD reaches only the reaper.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    LogOptions log;
    log.level = !options.log_level.empty() ? options.log_level : default_level;
    log.name = "runvm-agent";
    (void)init_logging(log);
}

void wait_for_stop_signal(bool ignore) {
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    for (;;) {
        int sig = 0;
        if (::sigwait(&stop_set, &sig) == 0 && !ignore) {
            return;
        }
    }
}

int run_agent(const AgentRunOptions& o) {
    if (::getpid() == 1 && !o.host_mode) {
        return run_pid1_agent(o);
    }
    return run_host_agent(o);
}

} // namespace runvm::agent
