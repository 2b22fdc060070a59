// The agent as PID 1 of the guest: boot, then ttRPC on vsock port 1024 until power-off.
#include <cerrno>
#include <ctime>

#include <linux/vm_sockets.h>
#include <malloc.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/owned_thread.hpp"
#include "guest_agent/pid1/pid1.hpp"
#include "guest_agent/pid1/power.hpp"
#include "guest_agent/service/agent_modes.hpp"
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

} // namespace

int run_pid1_agent(const AgentRunOptions& o) {
    // One malloc arena: glibc's default gives each new thread its own (a 64 MiB mapping,
    // trimmed and protected), kernel work at every thread's first malloc, which under
    // TCG is boot time; on one vCPU there is no lock contention to spare.
    ::mallopt(M_ARENA_MAX, 1);
    // The log is the serial console: every line is cold formatting and tty code under TCG,
    // and each character a port write.
    prepare_agent_process(o, "warn");
    AgentOptions ao;
    ao.state_dir = o.state_dir;
    if (auto r = run_pid1_boot(Pid1Options{}); !r.ok()) {
        spdlog::error("boot: {}", r.error().str());
    }
    ao.cgroup_mount = "/sys/fs/cgroup";
    ao.on_poweroff = [] { power_off(); };
    auto reaper = Reaper::start();
    if (!reaper.ok()) {
        spdlog::error("{}", reaper.error().str());
        return 1;
    }
    AgentService service(ao, **reaper);
    rpc::ServerOptions server_options;
    // One sandbox's host talks to it: the pool grows on demand, and every thread started
    // before the first call is boot time under TCG.
    server_options.workers = 1;
    rpc::Server server(server_options);
    service.register_with(server);
    auto l = listen_vsock(kAgentVsockPort);
    if (!l.ok()) {
        spdlog::error("{}", l.error().str());
        power_off();
    }
    UniqueFd vsock = std::move(l).value();
    if (auto r = server.start(); !r.ok()) {
        spdlog::error("{}", r.error().str());
        return 1;
    }
    // The sandbox listens before the VM starts; a host that does not (a test booting the
    // image by hand) still reaches the listener above.
    auto host = dial_host_vsock(kAgentVsockPort);
    if (host.ok()) {
        (void)server.serve_connection(std::move(host).value());
    } else {
        spdlog::info("{}: serving on the listener only", host.error().str());
    }
    // The guest's uptime here is the boot timeline's "agent listening" as the guest sees it.
    timespec up{};
    ::clock_gettime(CLOCK_BOOTTIME, &up);
    spdlog::info("runvm-agent serving on vsock port 1024 ({}.{:03} s after the kernel started)",
                 up.tv_sec, up.tv_nsec / 1000000);
    // The poll's 500 ms bounds how long a stop request waits.
    OwnedThread acceptor("vsock acceptor", [&](const OwnedThread::StopToken& stop) {
        while (!stop.stop_requested()) {
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
    wait_for_stop_signal(/*ignore=*/true);
    return 0;
}

} // namespace runvm::agent
