// Starts runvm-broker and waits for its sockets, watching that it does not die first.
#include "shim/sandbox/broker_process.hpp"

#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/hypervisor/jail_command.hpp"
#include "shim/sandbox/host_shares.hpp"

namespace runvm::shim {

std::vector<std::string> BrokerProcess::command(const BrokerConfig& c) {
    // docs/broker.md: --vsock <vu sock>,uds=<host sock>,cid=<n>; --blk <vu sock>,path=<img>[,ro];
    // --console <vu sock>,log=<file>.
    std::vector<std::string> argv = {c.binary, "--vsock",
                                     c.vsock_socket + ",uds=" + c.vsock_uds +
                                         ",cid=" + std::to_string(c.guest_cid)};
    if (!c.blk_socket.empty()) {
        argv.push_back("--blk");
        argv.push_back(c.blk_socket + ",path=" + c.blk_image + (c.blk_readonly ? ",ro" : ""));
    }
    if (!c.fs_socket.empty()) { // --fs <vu sock>,dir=<dir>,tag=<tag> (docs/virtiofs.md)
        // The container's own rootfs keeps runc's set-ID and chown behaviour (an image's
        // `useradd`, a setuid binary it builds); volumes get the safe default.
        argv.push_back("--fs");
        argv.push_back(c.fs_socket + ",dir=" + c.fs_dir + ",tag=" + c.fs_tag +
                       ",allow_setid=" + kRootfsShareName);
    }
    if (!c.console_socket.empty()) {
        argv.push_back("--console");
        argv.push_back(c.console_socket + ",log=" + c.console_log);
    }
    for (const auto& n : c.net) {
        argv.push_back("--net");
        argv.push_back(n.socket + (n.tap_later ? ",tap_socket=" : ",fd=") +
                       std::to_string(n.tap_fd) + (n.mac.empty() ? "" : ",mac=" + n.mac) +
                       (n.mtu ? ",mtu=" + std::to_string(n.mtu) : ""));
    }
    if (c.jail.jailed()) {
        argv.push_back("--jailed");
    }
    return argv;
}

jail::JailSpec BrokerProcess::jail_spec(const BrokerConfig& c,
                                        std::vector<std::string> broker_argv) {
    jail::JailSpec spec;
    spec.root = c.jail.root;
    spec.user = c.jail_user;
    // Its capabilities are needed by the fs device (the guest's root acts on its files): in
    // a user namespace they reach only what is mapped there, the idmapped shares.
    spec.ids = {c.jail.user.uid, c.jail.user.gid};
    spec.userns = true;
    spec.userns_host_ids = c.fs_host_ids && !c.fs_socket.empty();
    // The fs device's (broker/devices/fs/hardening.cpp); with host ids the broker is not the
    // namespace's root but the VM's uid, and keeps them as ambient capabilities.
    spec.keep_caps = {"chown", "dac_override", "fowner", "fsetid"};
    // Every socket it makes or dials: vhost-user, the hybrid vsock host socket and the
    // per-port sockets of the shim's listeners.
    spec.binds = {{c.jail.dir, false}};
    if (!c.blk_socket.empty()) {
        spec.binds.push_back({c.blk_image, c.blk_readonly});
    }
    if (!c.fs_socket.empty()) {
        spec.idmap_binds = {c.fs_dir};
    }
    spec.proc = true; // the fs device reopens its O_PATH fds through /proc/self/fd
    for (const auto& n : c.net) {
        spec.keep_fds.push_back(n.tap_fd);
    }
    spec.seccomp = jail::SeccompProfile::broker;
    spec.program = std::move(broker_argv);
    return spec;
}

namespace {

// The argv to spawn: the broker's own, or runvm-jail's around it. A jailed broker is the jail
// user's (inside 0) and opens the per-VM image after the jail is made: it gets the image.
Result<std::vector<std::string>> spawn_argv(const BrokerConfig& c) {
    std::vector<std::string> argv = BrokerProcess::command(c);
    if (!c.jail.jailed()) {
        return argv;
    }
    RUNVM_ASSIGN_OR_RETURN(argv[0], absolute_program(argv[0]));
    if (!c.blk_image.empty() && ::fchownat(AT_FDCWD, c.blk_image.c_str(), c.jail.user.uid,
                                           c.jail.user.gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return Err(Error::from_errno("chown " + c.blk_image + " to jail user " + c.jail_user));
    }
    return jail::jail_argv(c.jailer, BrokerProcess::jail_spec(c, std::move(argv)));
}

} // namespace

Result<BrokerProcess> BrokerProcess::start(const BrokerConfig& config,
                                           std::chrono::milliseconds timeout) {
    BrokerProcess b;
    for (const auto* s :
         {&config.vsock_socket, &config.blk_socket, &config.fs_socket, &config.console_socket}) {
        if (!s->empty()) {
            ::unlink(s->c_str());
            b.sockets_.push_back(*s);
        }
    }
    for (const auto& n : config.net) {
        ::unlink(n.socket.c_str());
        b.sockets_.push_back(n.socket);
    }
    RUNVM_ASSIGN_OR_RETURN(const std::vector<std::string> argv, spawn_argv(config));
    SpawnOptions options;
    options.stdin_null = true;
    options.stdout_path = config.output_path.empty() ? config.log_path : config.output_path;
    options.stderr_path = options.stdout_path;
    // The tap fds cross exec: FD_CLOEXEC off for the spawn only (the sandbox boots before the
    // monitor starts threads that spawn, so no other child inherits them), then back on.
    for (const auto& n : config.net) {
        if (::fcntl(n.tap_fd, F_SETFD, 0) != 0) {
            return Err(Error::from_errno("fcntl F_SETFD tap fd " + std::to_string(n.tap_fd)));
        }
    }
    auto spawned = ChildProcess::spawn(argv, options);
    for (const auto& n : config.net) {
        (void)::fcntl(n.tap_fd, F_SETFD, FD_CLOEXEC);
    }
    RUNVM_ASSIGN_OR_RETURN(b.child_, std::move(spawned));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        bool all = true;
        for (const auto& s : b.sockets_) {
            struct stat st {};
            all = all && ::stat(s.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
        }
        if (all) {
            return b;
        }
        auto exited = b.child_.wait_for(0);
        if (exited.ok() && exited->has_value()) {
            const int st = **exited;
            // runvm-jail's own failures exit 125 and name the step in the broker's log.
            const bool jail_failed = config.jail.jailed() && WIFEXITED(st) &&
                                     WEXITSTATUS(st) == jail::kJailFailureStatus;
            return Err(
                Error::msg((jail_failed ? "runvm-jail failed for runvm-broker (status 125)"
                                        : "runvm-broker exited with status " + std::to_string(st)) +
                           " before listening (log: " + config.log_path + ")"));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return Err(Error::with_errno(
                ETIMEDOUT, "runvm-broker: sockets not listening (log: " + config.log_path + ")"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

std::optional<int> BrokerProcess::poll() {
    auto r = child_.wait_for(0);
    if (r.ok()) {
        return *r;
    }
    return std::nullopt;
}

void BrokerProcess::stop(std::chrono::milliseconds grace) {
    if (child_.running() && child_.signal(SIGTERM).ok()) {
        auto r = child_.wait_for(static_cast<int>(grace.count()));
        (void)r;
    }
    child_.kill_and_reap();
    for (const auto& s : sockets_) {
        ::unlink(s.c_str());
    }
}

} // namespace runvm::shim
