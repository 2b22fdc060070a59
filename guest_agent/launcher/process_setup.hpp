// The last steps of every container process before exec, in runc's order: rlimits, oom
// score, no-new-privileges, seccomp, capabilities around the user switch, cwd, env, PATH.
// Runs in the forked child; each failure names its step.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "guest_agent/launcher/launch_plan.hpp"

namespace runvm::agent {

// What is left for exec once the process is set up.
struct ExecTarget {
    std::string path; // args[0] resolved in PATH
    std::vector<std::string> args;
    std::vector<std::string> env;
};

// Everything up to (and including) the PATH lookup. Seccomp is loaded here only when
// noNewPrivileges is off (it then needs the capabilities that the user switch drops);
// otherwise load_late_seccomp() loads it right before exec, like runc.
Result<ExecTarget> setup_process(const ProcessPlan& plan, const char** failed_step);

Result<void> load_late_seccomp(const ProcessPlan& plan);

// Closes every fd above 2 except `keep` (negative entries ignored): a forked child that waits
// before exec must not hold the agent's other fds (another process's stdin pipe, streams),
// or their peers would not see EOF until it execs.
Result<void> close_fds_except(std::initializer_list<int> keep);

// Marks every fd above 2 close-on-exec and resets signal dispositions and the mask.
void prepare_exec_environment();

} // namespace runvm::agent
