// Starts runvm-broker and waits for its sockets, watching that it does not die first.
#include "shim/sandbox/broker_process.hpp"

#include <csignal>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

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
    if (!c.console_socket.empty()) {
        argv.push_back("--console");
        argv.push_back(c.console_socket + ",log=" + c.console_log);
    }
    return argv;
}

Result<BrokerProcess> BrokerProcess::start(const BrokerConfig& config,
                                           std::chrono::milliseconds timeout) {
    BrokerProcess b;
    for (const auto* s : {&config.vsock_socket, &config.blk_socket, &config.console_socket}) {
        if (!s->empty()) {
            ::unlink(s->c_str());
            b.sockets_.push_back(*s);
        }
    }
    SpawnOptions options;
    options.stdin_null = true;
    options.stdout_path = config.log_path;
    options.stderr_path = config.log_path;
    RUNVM_ASSIGN_OR_RETURN(b.child_, ChildProcess::spawn(command(config), options));
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
