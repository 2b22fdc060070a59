// The shim daemon: the task API on the socket `start` bound (fd 3), events to containerd,
// a reaper for the container monitors; it exits when containerd calls Shutdown with no
// containers left, or on SIGTERM.
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/event_fd.hpp"
#include "base/io.hpp"
#include "base/log.hpp"
#include "base/unix_socket.hpp"
#include "rpc/server.hpp"
#include "shim/containerd/event_publisher.hpp"
#include "shim/containerd/reaper.hpp"
#include "shim/containerd/shim_actions.hpp"
#include "shim/containerd/shim_address.hpp"
#include "shim/containerd/task_service.hpp"

namespace runvm::containerd {

using namespace std::chrono_literals;

namespace {

// containerd opens <bundle>/log (a FIFO, read side O_RDWR) before starting the shim and
// copies what we write there into its own log.
void setup_logging(const ShimFlags& flags) {
    LogOptions o;
    o.level = flags.debug ? "debug" : "info";
    o.name = "containerd-shim-runvm-v2";
    struct stat st {};
    if (::stat("log", &st) == 0 && S_ISFIFO(st.st_mode)) {
        o.path = "log";
    }
    if (auto r = init_logging(o); !r) {
        std::fprintf(stderr, "logging: %s\n", r.error().str().c_str());
    }
}

Result<UniqueFd> listening_socket(const ShimFlags& flags) {
    if (!flags.socket.empty()) {
        RUNVM_ASSIGN_OR_RETURN(std::string path, socket_path(flags.socket));
        return listen_unix(path, 128);
    }
    // `start` passed the bound socket as fd 3 (containerd's shim library does the same).
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
        return Err(Error::with_errno(EBADF, "fd 3 is not the shim's listening socket"));
    }
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    RUNVM_TRY(set_nonblocking(3, true, "shim socket"));
    return UniqueFd(3);
}

// The path a listening Unix socket is bound to (empty for an abstract or unnamed one).
std::string socket_file_of(int fd) {
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] == '\0') {
        return "";
    }
    return std::string(addr.sun_path, ::strnlen(addr.sun_path, sizeof addr.sun_path));
}

} // namespace

int run_daemon(const ShimFlags& flags) {
    ::signal(SIGPIPE, SIG_IGN);
    // Before any thread exists: every thread inherits the mask, so only the signalfds below
    // see these signals.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
    setup_logging(flags);
    auto reaper = Reaper::start();
    if (!reaper) {
        spdlog::error("{}", reaper.error().str());
        return 1;
    }
    auto listener = listening_socket(flags);
    if (!listener) {
        spdlog::error("{}", listener.error().str());
        return 1;
    }
    const std::string bound_path = socket_file_of(listener->get());
    UniqueFd term_fd(::signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK));
    auto stop = EventFd::create();
    if (!term_fd || !stop) {
        spdlog::error("signalfd/eventfd for the shim's main loop: {}", std::strerror(errno));
        return 1;
    }
    spdlog::info("shim for {} in namespace {} serving (pid {})", flags.id, flags.namespace_name,
                 ::getpid());
    {
        EventPublisher events(flags.ttrpc_address, flags.namespace_name);
        TaskServiceOptions options;
        options.ns = flags.namespace_name;
        options.runvm_root = runvm_root_for(flags.namespace_name);
        options.runvm_binary = runvm_binary();
        TaskService service(options, events, **reaper, [&stop] { (void)stop->signal(); });
        rpc::Server server;
        service.register_with(server);
        if (auto r = server.start(); !r) {
            spdlog::error("{}", r.error().str());
            return 1;
        }
        for (;;) {
            pollfd fds[3] = {
                {listener->get(), POLLIN, 0}, {stop->get(), POLLIN, 0}, {term_fd.get(), POLLIN, 0}};
            if (::poll(fds, 3, -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                spdlog::error("poll: {}", std::strerror(errno));
                break;
            }
            if (fds[1].revents) {
                spdlog::info("shutdown requested");
                break;
            }
            if (fds[2].revents) {
                spdlog::info("terminated by signal");
                break;
            }
            auto conn = accept_unix(listener->get(), false, "shim socket");
            if (!conn) {
                spdlog::warn("{}", conn.error().str());
                continue;
            }
            if (*conn) {
                if (auto r = server.serve_connection(std::move(*conn)); !r) {
                    spdlog::warn("{}", r.error().str());
                }
            }
        }
        // Let the Shutdown call's response leave before the connections close.
        std::this_thread::sleep_for(50ms);
        server.shutdown();
        // No exit callback may reach the service once it is gone.
        reaper->reset();
    }
    // The socket's file goes with us. Its name comes from the socket itself: containerd
    // removes the bundle (and its "address" file) as soon as our connections close.
    if (!bound_path.empty()) {
        ::unlink(bound_path.c_str());
    }
    return 0;
}

} // namespace runvm::containerd
