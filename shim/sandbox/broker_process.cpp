// Starts runvm-broker and waits for its sockets, watching that it does not die first.
#include "shim/sandbox/broker_process.hpp"

#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
        argv.push_back(n.socket + ",fd=" + std::to_string(n.tap_fd) +
                       (n.mac.empty() ? "" : ",mac=" + n.mac) +
                       (n.mtu ? ",mtu=" + std::to_string(n.mtu) : ""));
    }
    return argv;
}

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
    auto spawned = ChildProcess::spawn(command(config), options);
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
            return Err(Error::msg("runvm-broker exited with status " + std::to_string(**exited) +
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
