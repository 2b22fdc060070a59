// Agent process setup and its serving loop.
#include "guest_agent/service/agent_server.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <thread>

#include <linux/vm_sockets.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.hpp"
#include "guest_agent/launcher/fs_paths.hpp"
#include "guest_agent/pid1/pid1.hpp"
#include "guest_agent/pid1/power.hpp"
#include "guest_agent/service/agent_service.hpp"

namespace runvm::agent {

namespace {

Result<UniqueFd> listen_vsock(uint32_t port) {
    UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_VSOCK"));
    }
    sockaddr_vm addr{};
    addr.svm_family = AF_VSOCK;
    addr.svm_cid = VMADDR_CID_ANY;
    addr.svm_port = port;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        return Err(Error::from_errno("bind vsock port " + std::to_string(port)));
    }
    if (::listen(fd.get(), 16) < 0) {
        return Err(Error::from_errno("listen vsock port " + std::to_string(port)));
    }
    return fd;
}

// Connects to the host's port (the hybrid vsock convention: the broker forwards it to the
// Unix socket "<uds>_<port>", where the sandbox waits for the agent).
Result<UniqueFd> dial_host_vsock(uint32_t port) {
    UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return Err(Error::from_errno("socket AF_VSOCK"));
    }
    sockaddr_vm addr{};
    addr.svm_family = AF_VSOCK;
    addr.svm_cid = VMADDR_CID_HOST;
    addr.svm_port = port;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        return Err(Error::from_errno("connect vsock host port " + std::to_string(port)));
    }
    return fd;
}

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

int run_agent(const AgentRunOptions& o) {
    const bool pid1 = ::getpid() == 1 && !o.host_mode;
    if (pid1) {
        // One malloc arena: glibc's default gives each new thread its own (a 64 MiB mapping,
        // trimmed and protected), kernel work at every thread's first malloc, which under
        // TCG is boot time; on one vCPU there is no lock contention to spare.
        ::mallopt(M_ARENA_MAX, 1);
    }
    // Before any thread: every thread inherits the mask, SIGCHLD reaches only the reaper.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    LogOptions log;
    log.level = !o.log_level.empty() ? o.log_level : pid1 ? "warn" : "info";
    log.name = "runvm-agent";
    (void)init_logging(log);

    AgentOptions ao;
    ao.state_dir = o.state_dir;
    if (pid1) {
        if (auto r = run_pid1_boot(Pid1Options{}); !r.ok()) {
            spdlog::error("boot: {}", r.error().str());
        }
        ao.cgroup_mount = "/sys/fs/cgroup";
        ao.on_poweroff = [] { power_off(); };
    } else {
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
    }
    auto reaper = Reaper::start();
    if (!reaper.ok()) {
        spdlog::error("{}", reaper.error().str());
        return 1;
    }
    AgentService service(ao, **reaper);
    rpc::ServerOptions server_options;
    if (pid1) {
        // One sandbox's host talks to it: the pool grows on demand, and every thread
        // started before the first call is boot time under TCG.
        server_options.workers = 1;
    }
    rpc::Server server(server_options);
    service.register_with(server);
    UniqueFd vsock;
    if (pid1) {
        auto l = listen_vsock(kAgentVsockPort);
        if (!l.ok()) {
            spdlog::error("{}", l.error().str());
            power_off();
        }
        vsock = std::move(l).value();
    } else if (auto r = server.listen_unix(o.socket_path); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    if (auto r = server.start(); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    if (pid1) {
        // The sandbox listens before the VM starts; a host that does not (a test booting the
        // image by hand) still reaches the listener above.
        auto host = dial_host_vsock(kAgentVsockPort);
        if (host.ok()) {
            (void)server.serve_connection(std::move(host).value());
        } else {
            spdlog::info("{}: serving on the listener only", host.error().str());
        }
    }
    // The guest's uptime here is the boot timeline's "agent listening" as the guest sees it.
    timespec up{};
    ::clock_gettime(CLOCK_BOOTTIME, &up);
    spdlog::info("runvm-agent serving on {} ({}.{:03} s after the kernel started)",
                 pid1 ? "vsock port 1024" : o.socket_path, up.tv_sec, up.tv_nsec / 1000000);
    std::atomic<bool> stop{false};
    std::thread acceptor;
    if (vsock) {
        acceptor = std::thread([&] {
            while (!stop) {
                pollfd p{vsock.get(), POLLIN, 0};
                if (::poll(&p, 1, 500) <= 0) {
                    continue;
                }
                UniqueFd c(::accept4(vsock.get(), nullptr, nullptr, SOCK_CLOEXEC));
                if (c) {
                    (void)server.serve_connection(std::move(c));
                }
            }
        });
    }
    // SIGTERM/SIGINT end host mode; PID 1 ignores them (it ends by DestroySandbox).
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    for (;;) {
        int sig = 0;
        if (::sigwait(&stop_set, &sig) == 0 && !pid1) {
            break;
        }
    }
    stop = true;
    if (acceptor.joinable()) {
        acceptor.join();
    }
    server.shutdown();
    return 0;
}

} // namespace runvm::agent
