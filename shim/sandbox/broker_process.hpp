// BrokerProcess: the VM's runvm-broker (vhost-user vsock, blk and console backends), started
// before the hypervisor because vhost-user frontends connect at start-up.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/child_process.hpp"
#include "base/result.hpp"
#include "jail/jail_spec.hpp"
#include "shim/sandbox/jail_dirs.hpp"

namespace runvm::shim {

// A virtio-net device over a tap the parent created in the container's network namespace
// (shim/network plumb); the broker inherits the fd and adopts it (--net ...,fd=). A pooled
// VM's spare link has no tap yet: the broker inherits a socket the tap comes over later
// (--net ...,tap_socket=; Sandbox::attach_network).
struct BrokerNetDevice {
    std::string socket;     // vhost-user socket
    int tap_fd = -1;        // the parent's fd; the broker gets the same number
    std::string mac;        // config space MAC ("" : none)
    uint32_t mtu = 0;       // config space MTU (0: none)
    bool tap_later = false; // tap_fd is that socket
};

struct BrokerConfig {
    std::string binary = "runvm-broker";
    std::string vsock_socket; // vhost-user socket of the vsock device
    std::string vsock_uds;    // the hybrid vsock Unix socket for the host side
    uint32_t guest_cid = 3;
    std::string blk_socket; // empty: no blk device
    std::string blk_image;
    bool blk_readonly = false;
    std::string fs_socket; // empty: no virtio-fs device
    std::string fs_dir;    // the shared directory (host_shares.hpp)
    // Jailed, the share is served with host ids (runvm-jail --userns-host-ids) instead of
    // idmapped: it holds, or will hold, a mount that cannot be idmapped (an overlayfs rootfs,
    // a pod's members attached later).
    bool fs_host_ids = false;
    std::string fs_tag;
    std::string console_socket; // empty: no console device
    std::string console_log;
    std::string log_path;    // the broker's own log
    std::string output_path; // where its stdout and stderr are opened (the sandbox's log pump,
                             // which fills log_path); empty: log_path itself
    std::vector<BrokerNetDevice> net;
    // Jailed when jail.jailed(): runvm-jail (`jailer`) starts it as the root of a user
    // namespace whose 0 is the VM's ids, jail.user, and whose 1..65535 are `jail_user`'s
    // subordinate ids (docs/security.md, "Jail: the broker").
    JailDirs jail;
    std::string jail_user;
    std::string jailer = "runvm-jail";
};

class BrokerProcess {
public:
    // The argv runvm-broker gets (see docs/broker.md); exposed for tests.
    static std::vector<std::string> command(const BrokerConfig& config);
    // What runvm-jail is asked for a jailed broker running `broker_argv` (argv[0] absolute):
    // the jail directory bound, each fs share idmapped through the broker's user namespace,
    // the blk image, /proc, the tap fds kept, the broker seccomp profile.
    static jail::JailSpec jail_spec(const BrokerConfig& config,
                                    std::vector<std::string> broker_argv);

    // Starts the broker and waits (up to `timeout`) until every vhost-user socket listens.
    static Result<BrokerProcess> start(const BrokerConfig& config,
                                       std::chrono::milliseconds timeout);

    bool running() const { return child_.running(); }
    // Raw wait status when it has exited (reaps it), nullopt while it runs.
    std::optional<int> poll();
    void stop(std::chrono::milliseconds grace);
    pid_t pid() const { return child_.pid(); }

private:
    ChildProcess child_;
    std::vector<std::string> sockets_;
};

} // namespace runvm::shim
