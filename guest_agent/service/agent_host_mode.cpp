// The agent in --host mode (tests): a private mount namespace, ttRPC on a Unix socket,
// until SIGTERM or SIGINT.
#include <cerrno>
#include <cstring>
#include <ctime>

#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/service/agent_modes.hpp"
#include "guest_agent/service/agent_service.hpp"

namespace runvm::agent {

namespace {

// Host mode: a private mount namespace so block-device rootfs mounts and a private cgroup2
// mount never show on the host; cgroup2 comes from the host when it has one.
Result<std::string> isolate_host_mode(const std::string& state_dir) {
    if (::unshare(CLONE_NEWNS) < 0) {
        return Err(Error::from_errno("unshare CLONE_NEWNS (host mode)"));
    }
    if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
        return Err(Error::from_errno("make / rslave (host mode)"));
    }
    if (auto m = Cgroup::find_v2_mount()) {
        return *m;
    }
    const std::string dir = state_dir + "/cgroup";
    RUNVM_TRY(mkdir_all(dir, 0755));
    if (::mount("cgroup2", dir.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
        spdlog::warn("no cgroup2 on this host ({}): containers get no cgroup",
                     std::strerror(errno));
        return std::string();
    }
    return dir;
}

} // namespace

int run_host_agent(const AgentRunOptions& o) {
    prepare_agent_process(o, "info");
    AgentOptions ao;
    ao.state_dir = o.state_dir;
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        spdlog::error("prctl PR_SET_CHILD_SUBREAPER: {}", std::strerror(errno));
        return 1;
    }
    if (auto r = mkdir_all(o.state_dir, 0700); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    auto cg = isolate_host_mode(o.state_dir);
    if (!cg.ok()) {
        spdlog::error("{}", cg.error().str());
        return 1;
    }
    ao.cgroup_mount = *cg;
    ao.cgroup_parent = "runvm-agent-" + std::to_string(::getpid());
    ao.stdio.vsock = false;
    ao.stdio.unix_prefix = o.stdio_dir + "/vsock";
    auto reaper = Reaper::start();
    if (!reaper.ok()) {
        spdlog::error("{}", reaper.error().str());
        return 1;
    }
    AgentService service(ao, **reaper);
    rpc::Server server(rpc::ServerOptions{});
    service.register_with(server);
    if (auto r = server.listen_unix(o.socket_path); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    if (auto r = server.start(); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    timespec up{};
    ::clock_gettime(CLOCK_BOOTTIME, &up);
    spdlog::info("runvm-agent serving on {} ({}.{:03} s after the kernel started)", o.socket_path,
                 up.tv_sec, up.tv_nsec / 1000000);
    wait_for_stop_signal(/*ignore=*/false);
    server.shutdown();
    return 0;
}

} // namespace runvm::agent
