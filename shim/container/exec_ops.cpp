// `runvm exec`: the caller's stdio (or a pty for --tty) goes to the monitor with the request;
// the monitor bridges it and reports the exit status on the same connection.
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "oci/spec_json.hpp"
#include "shim/container/console.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/signal_forwarder.hpp"

namespace runvm::shim {

using nlohmann::json;
using namespace std::chrono_literals;

Result<json> exec_process_from_bundle(const std::string& root, const std::string& id) {
    ContainerStore store(root);
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(id));
    RUNVM_ASSIGN_OR_RETURN(oci::Spec spec, oci::load_spec(rec.bundle + "/config.json"));
    if (!spec.process) {
        return json::object();
    }
    // runc exec starts from the container's process: user, env, capabilities, rlimits...
    json p = oci::spec_to_json(spec)["process"];
    p.erase("consoleSize");
    return p;
}

namespace {

struct StartedExec {
    ControlChannel channel; // carries the exit status
    std::string exec_id;    // the agent's name for the process: kill requests use it
};

// runc's rule for `exec --tty` without --console-socket: the client's own terminal (stdin,
// stdout or stderr, else /dev/tty) carries the session; with none there is nothing to
// attach the container's tty to, and it fails at once.
Result<void> check_client_terminal() {
    for (int fd : {2, 1, 0}) {
        if (::isatty(fd)) {
            return Ok();
        }
    }
    UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!tty) {
        return Err(Error::from_errno("exec --tty: stdin, stdout and stderr are not terminals, "
                                     "and open /dev/tty"));
    }
    return Ok();
}

// Sends the request and waits for {"pid"}; returns the channel for the exit status.
Result<StartedExec> start_exec(const ExecOptions& o, std::optional<RawTerminal>& raw) {
    ContainerStore store(o.root);
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(o.id));
    if (effective_status(rec) != "running" || !rec.monitor()) {
        return Err(Error::msg("cannot exec in a container that is not running"));
    }
    std::vector<int> fds;
    std::vector<bool> want = {false, false, false};
    UniqueFd slave;
    if (o.tty && !o.console_socket.empty()) {
        RUNVM_ASSIGN_OR_RETURN(PtyPair pty, open_pty(0, 0));
        RUNVM_TRY(send_console(o.console_socket, pty.master.get()));
        slave = std::move(pty.slave);
        fds = {slave.get()};
        want = {true, false, false};
    } else if (o.tty) {
        RUNVM_TRY(check_client_terminal());
        if (::isatty(0)) {
            if (auto r = RawTerminal::enter(0)) {
                raw.emplace(std::move(*r));
            }
        }
        fds = {0, 1};
        want = {true, true, false};
    } else {
        fds = {0, 1, 2};
        want = {true, true, true};
    }
    RUNVM_ASSIGN_OR_RETURN(ControlChannel ch,
                           ControlChannel::connect(control_socket_of(store, rec), 10s));
    json req = {{"op", "exec"},
                {"process", o.process},
                {"tty", o.tty},
                {"stdio", want},
                {"container", o.id}};
    req["process"]["terminal"] = o.tty;
    RUNVM_TRY(ch.send(req, fds));
    RUNVM_ASSIGN_OR_RETURN(ControlMessage started, ch.receive(60s));
    if (started.body.contains("error")) {
        return Err(Error::msg(started.body["error"].get<std::string>()));
    }
    return StartedExec{std::move(ch), started.body.value("exec_id", std::string())};
}

// Waits for the exit status, passing on every signal this client gets to the process (as
// runc's exec does: containerd's runc shim signals an exec through its pid-file pid).
Result<int> wait_exec(const ExecOptions& o, StartedExec& e, SignalForwarder& signals) {
    // No deadline: the process runs as long as it likes; the monitor's exit closes the socket.
    while (!e.channel.has_message()) {
        pollfd fds[2] = {{e.channel.fd(), POLLIN, 0}, {signals.fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Err(Error::from_errno("poll exec connection"));
        }
        while (auto sig = signals.take()) {
            auto r = monitor_request(o.root, o.id,
                                     {{"op", "kill"}, {"signal", *sig}, {"exec_id", e.exec_id}});
            if (!r) {
                spdlog::debug("exec {}: forward signal {}: {}", e.exec_id, *sig, r.error().str());
            }
        }
        if (fds[0].revents) {
            break;
        }
    }
    RUNVM_ASSIGN_OR_RETURN(ControlMessage done, e.channel.receive(0ms));
    if (done.body.contains("error")) {
        return Err(Error::msg(done.body["error"].get<std::string>()));
    }
    return done.body.value("exit_status", 255);
}

} // namespace

Result<int> exec_in_container(const ExecOptions& o) {
    if (!o.detach) {
        RUNVM_ASSIGN_OR_RETURN(SignalForwarder signals, SignalForwarder::open());
        std::optional<RawTerminal> raw;
        RUNVM_ASSIGN_OR_RETURN(StartedExec e, start_exec(o, raw));
        if (!o.pid_file.empty()) {
            RUNVM_TRY(write_file_atomic(o.pid_file, std::to_string(::getpid()), 0644));
        }
        return wait_exec(o, e, signals);
    }
    // Detached: a child keeps the connection and exits with the process's status, so a
    // caller that reaps orphans (containerd's shim) gets it from the pid-file pid.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe for exec"));
    }
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    auto forked = ChildProcess::fork_child("exec waiter", [&]() -> int {
        rd.reset();
        // Before the exec starts: a signal sent to the pid-file pid must reach the process.
        auto signals = SignalForwarder::open();
        std::optional<RawTerminal> raw;
        auto ch = signals ? start_exec(o, raw) : Result<StartedExec>(Err(signals.error()));
        if (!ch) {
            const std::string msg = "error " + ch.error().str();
            (void)write_all(wr.get(), msg.data(), msg.size(), "exec pipe");
            return 255;
        }
        (void)write_all(wr.get(), "ok", 2, "exec pipe");
        wr.reset();
        // Detached from the caller's terminal: the fds went to the monitor already.
        const int devnull = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3 && devnull >= 0; ++fd) {
            ::dup2(devnull, fd);
        }
        auto status = wait_exec(o, *ch, *signals);
        return status ? *status : 255;
    });
    if (!forked) {
        return Err(std::move(forked).error());
    }
    ChildProcess waiter = std::move(*forked);
    wr.reset();
    std::string reply;
    for (;;) {
        pollfd pf{rd.get(), POLLIN, 0};
        const int r = ::poll(&pf, 1, 90'000);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            waiter.kill_and_reap();
            return Err(Error::with_errno(ETIMEDOUT, "exec did not start"));
        }
        char buf[4096];
        const ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        reply.append(buf, static_cast<size_t>(n));
    }
    if (reply != "ok") {
        (void)waiter.wait();
        return Err(
            Error::msg(reply.rfind("error ", 0) == 0 ? reply.substr(6) : "exec waiter failed"));
    }
    if (!o.pid_file.empty()) {
        RUNVM_TRY(write_file_atomic(o.pid_file, std::to_string(waiter.pid()), 0644));
    }
    // The waiter outlives this process: the caller that reaps orphans gets its status.
    (void)waiter.release();
    return 0;
}

} // namespace runvm::shim
