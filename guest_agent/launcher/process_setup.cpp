// Process setup shared by the container's init and exec'd processes.
#include "guest_agent/launcher/process_setup.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest_agent/launcher/exec_lookup.hpp"
#include "guest_agent/launcher/rlimits.hpp"
#include "guest_agent/launcher/user.hpp"

namespace runvm::agent {

namespace {
#define STEP(name, expr)                                                                           \
    do {                                                                                           \
        auto step_result_ = (expr);                                                                \
        if (!step_result_.ok()) {                                                                  \
            *failed_step = name;                                                                   \
            return Err(std::move(step_result_).error());                                           \
        }                                                                                          \
    } while (0)
} // namespace

Result<ExecTarget> setup_process(const ProcessPlan& plan, const char** failed_step) {
    const oci::Process& p = plan.process;
    STEP("rlimits", apply_rlimits(p.rlimits.value_or(std::vector<oci::Rlimit>{})));
    if (p.oom_score_adj) {
        STEP("oom_score_adj", apply_oom_score_adj(*p.oom_score_adj));
    }
    const bool nnp = p.no_new_privileges.value_or(false);
    if (nnp && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        *failed_step = "no_new_privileges";
        return Err(Error::from_errno("prctl PR_SET_NO_NEW_PRIVS"));
    }
    if (!nnp && plan.seccomp) {
        STEP("seccomp", plan.seccomp->load());
    }
    const bool has_caps = p.capabilities.has_value();
    if (has_caps) {
        STEP("capabilities", apply_bounding_set(plan.caps));
        STEP("capabilities", set_keep_caps(true));
    }
    STEP("user", switch_user(p.user));
    if (has_caps) {
        STEP("capabilities", set_keep_caps(false));
        STEP("capabilities", apply_capability_sets(plan.caps));
    }
    if (::chdir(p.cwd.c_str()) < 0) {
        *failed_step = "cwd";
        return Err(Error::from_errno("chdir to cwd (\"" + p.cwd + "\") set in config.json failed"));
    }
    ::umask(p.user.umask.value_or(022));
    ExecTarget t;
    t.args = *p.args;
    t.env = p.env.value_or(std::vector<std::string>{});
    if (env_value(t.env, "HOME").empty()) {
        t.env.push_back("HOME=" + home_for_uid(p.user.uid));
    }
    STEP("exec", look_path(t.args[0], env_value(t.env, "PATH")));
    t.path = look_path(t.args[0], env_value(t.env, "PATH")).value();
    return t;
}

Result<void> load_late_seccomp(const ProcessPlan& plan) {
    if (plan.process.no_new_privileges.value_or(false) && plan.seccomp) {
        return plan.seccomp->load();
    }
    return Ok();
}

void prepare_exec_environment() {
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &dfl, nullptr);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

} // namespace runvm::agent
