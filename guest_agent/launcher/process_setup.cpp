// Process setup shared by the container's init and exec'd processes.
#include "guest_agent/launcher/process_setup.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>

#include <dirent.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
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

bool is_kept(int fd, std::initializer_list<int> keep) {
    for (const int k : keep) {
        if (k == fd) {
            return true;
        }
    }
    return false;
}

// Before Linux 5.9 (no close_range): the fds listed in /proc/self/fd.
Result<void> close_listed_fds(std::initializer_list<int> keep) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return Err(Error::from_errno("opendir /proc/self/fd"));
    }
    std::vector<int> fds;
    while (const dirent* e = ::readdir(dir)) {
        int fd = -1;
        const char* end = e->d_name + std::strlen(e->d_name);
        if (std::from_chars(e->d_name, end, fd).ptr == end && fd > 2 && fd != ::dirfd(dir) &&
            !is_kept(fd, keep)) {
            fds.push_back(fd);
        }
    }
    ::closedir(dir);
    for (const int fd : fds) {
        UniqueFd dropped(fd); // inherited, not ours to keep
    }
    return Ok();
}
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

Result<void> close_fds_except(std::initializer_list<int> keep) {
    // close_range over each gap between kept fds, lowest first; ~0U: no kept fd above.
    unsigned int first = 3;
    for (;;) {
        unsigned int next = ~0U;
        for (const int k : keep) {
            if (k >= 0 && static_cast<unsigned int>(k) >= first &&
                static_cast<unsigned int>(k) < next) {
                next = static_cast<unsigned int>(k);
            }
        }
        if (next != first) {
            const unsigned int last = next == ~0U ? ~0U : next - 1;
            if (::syscall(SYS_close_range, first, last, 0U) < 0) {
                if (errno == ENOSYS) {
                    return close_listed_fds(keep);
                }
                return Err(Error::from_errno("close_range " + std::to_string(first) + ".." +
                                             std::to_string(last)));
            }
        }
        if (next == ~0U) {
            return Ok();
        }
        first = next + 1;
    }
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
