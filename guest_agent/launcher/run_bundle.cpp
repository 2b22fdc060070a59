// Host-mode run of a bundle: subreaper + reaper, optional cgroup v2, create/start/wait.
#include "guest_agent/launcher/run_bundle.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/owned_thread.hpp"
#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/launcher.hpp"
#include "oci/spec_json.hpp"
#include "oci/validate.hpp"

namespace runvm::agent {

namespace {
constexpr std::chrono::milliseconds kSetupTimeout{30000};

int report(const std::string& what, const Error& e) {
    const LaunchError le = ContainerProcess::describe(e);
    // A failed lookup of args[0] reads exactly like runc's (its message says it all).
    const std::string detail =
        le.step == "exec" ? le.error.message() : le.step + ": " + le.error.str();
    std::fprintf(stderr, "runvm-launch: %s: %s\n", what.c_str(), detail.c_str());
    return le.exit_code;
}

// Copies bytes both ways between the caller's terminal and the pty until `done`.
void proxy_pty(int master, const std::atomic<bool>& done) {
    char buf[4096];
    bool stdin_open = true;
    while (!done.load()) {
        pollfd fds[2] = {{master, POLLIN, 0}, {0, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
        if (::poll(fds, 2, 100) <= 0) {
            continue;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) {
                return;
            }
            [[maybe_unused]] ssize_t w = ::write(1, buf, static_cast<size_t>(n));
        }
        if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
            const ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                stdin_open = false;
                continue;
            }
            [[maybe_unused]] ssize_t w = ::write(master, buf, static_cast<size_t>(n));
        }
    }
}
} // namespace

int run_bundle(const RunBundleOptions& o) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        return report("prctl PR_SET_CHILD_SUBREAPER", Error::from_errno("prctl"));
    }
    if (auto r = Reaper::block_sigchld(); !r.ok()) {
        return report("reaper", r.error());
    }
    auto reaper = Reaper::start();
    if (!reaper.ok()) {
        return report("reaper", reaper.error());
    }
    auto spec = oci::load_spec(o.bundle + "/config.json");
    if (!spec.ok()) {
        return report("load spec", spec.error());
    }
    if (auto v = oci::validate(*spec); !v.ok()) {
        return report("invalid spec", v.error());
    }
    std::string bundle = o.bundle;
    if (bundle.empty() || bundle[0] != '/') {
        char cwd[4096];
        bundle = std::string(::getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + bundle;
    }
    std::string rootfs = spec->root ? spec->root->path : "rootfs";
    if (rootfs.empty() || rootfs[0] != '/') {
        rootfs = bundle + "/" + rootfs;
    }
    const oci::Resources no_resources;
    const auto& resources =
        spec->linux && spec->linux->resources ? *spec->linux->resources : no_resources;
    auto plan = plan_launch(o.id, bundle, rootfs, std::move(spec).value());
    if (!plan.ok()) {
        return report("invalid spec", plan.error());
    }
    std::optional<Cgroup> cgroup;
    if (auto mount = Cgroup::find_v2_mount()) {
        auto cg = Cgroup::create(*mount, o.cgroup_parent + "/" + o.id);
        if (!cg.ok()) {
            return report("cgroup", cg.error());
        }
        cgroup = std::move(cg).value();
        if (auto r = cgroup->apply(resources); !r.ok()) {
            (void)cgroup->remove();
            return report("cgroup resources", r.error());
        }
        plan->cgroup_dir = cgroup->path();
    } else if (!(resources == no_resources)) {
        spdlog::warn("no cgroup2 mount on this host: linux.resources not applied");
    }
    plan->stdio = StdioFds{0, 1, 2};
    int code = 0;
    {
        auto c = ContainerProcess::create(*plan, **reaper, kSetupTimeout);
        if (!c.ok()) {
            code = report("create container", c.error());
        } else {
            UniqueFd console = c->take_console();
            if (!o.pid_file.empty()) {
                std::ofstream(o.pid_file) << c->pid();
            }
            if (auto s = c->start(kSetupTimeout); !s.ok()) {
                code = report("start container", s.error());
                ::kill(c->pid(), SIGKILL);
                (void)(*reaper)->wait(c->pid(), kSetupTimeout);
            } else {
                std::atomic<bool> done{false};
                OwnedThread proxy;
                if (console) {
                    proxy = OwnedThread("pty proxy", [&] { proxy_pty(console.get(), done); });
                }
                auto rec = (*reaper)->wait(c->pid(), std::chrono::milliseconds(-1));
                done = true;
                proxy.stop_and_join();
                code = shell_exit_status(rec->wait_status);
            }
        }
    }
    if (cgroup) {
        if (auto procs = cgroup->processes(); procs.ok()) {
            for (pid_t p : *procs) {
                ::kill(p, SIGKILL);
            }
        }
        if (auto r = cgroup->remove(); !r.ok()) {
            spdlog::warn("{}", r.error().str());
        }
    }
    return code;
}

} // namespace runvm::agent
