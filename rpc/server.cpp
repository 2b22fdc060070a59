// ttRPC server lifecycle: registration, listening, accepting, start and shutdown.
#include "rpc/server.hpp"

#include <cerrno>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/frame_io.hpp"
#include "rpc/server_impl.hpp"
#include "rpc/unix_socket.hpp"

namespace runvm::rpc {

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(options)) {}

Server::~Server() {
    shutdown();
}

void Server::register_method(std::string service, std::string method, RawHandler handler) {
    auto h = std::make_shared<const RawHandler>(std::move(handler));
    std::unique_lock lock(impl_->handlers_mu);
    impl_->handlers[handler_key(service, method)] = std::move(h);
}

std::shared_ptr<const RawHandler> Server::Impl::find_handler(const std::string& service,
                                                             const std::string& method) {
    const std::string key = handler_key(service, method);
    std::shared_lock lock(handlers_mu);
    auto it = handlers.find(key);
    return it == handlers.end() ? nullptr : it->second;
}

Result<void> Server::listen_unix(const std::string& path) {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) {
        return Err(Error::msg("listen " + path + ": server is shut down"));
    }
    if (impl_->listen_fd) {
        return Err(
            Error::msg("listen " + path + ": server already listens on " + impl_->listen_path));
    }
    RUNVM_ASSIGN_OR_RETURN(impl_->listen_fd, listen_unix_socket(path));
    impl_->listen_path = path;
    if (impl_->started) {
        impl_->accept_thread =
            OwnedThread("ttrpc accept " + path, [impl = impl_.get()] { impl->accept_loop(); });
    }
    return Ok();
}

Result<void> Server::serve_connection(UniqueFd fd) {
    return impl_->add_connection(std::move(fd));
}

Result<void> Server::Impl::add_connection(UniqueFd fd) {
    RUNVM_TRY(check_stream_socket(fd.get()));
    RUNVM_TRY(set_send_timeout(fd.get(), options.write_timeout));
    auto conn = std::make_shared<Connection>();
    conn->what = "ttrpc server connection fd " + std::to_string(fd.get());
    conn->fd = std::move(fd);
    conn->frames = std::make_unique<FrameReader>(conn->fd.get(), Receiver::server, conn->what);
    std::lock_guard lock(mu);
    if (stopped) {
        return Err(Error::msg(conn->what + ": server is shut down"));
    }
    reap_finished();
    connections.push_back(conn);
    if (started) {
        launch_reader(conn);
    }
    return Ok();
}

void Server::Impl::launch_reader(const std::shared_ptr<Connection>& conn) {
    conn->reader = OwnedThread("ttrpc reader " + conn->what,
                               [this, conn] {
                                   read_loop(conn, 0);
                                   conn->reader_exited.store(true);
                               },
                               {.wake = {}, .stop_timeout = kHandlerStopTimeout});
}

void Server::Impl::reap_finished() {
    std::erase_if(connections, [](const std::shared_ptr<Connection>& c) {
        // A first reader that handed reading on may still run a slow call: later.
        if (!c->finished.load() || !c->reader_exited.load()) {
            return false;
        }
        c->reader.stop_and_join();
        return true;
    });
}

Result<void> Server::start() {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) {
        return Err(Error::msg("start ttrpc server: it is shut down"));
    }
    if (impl_->started) {
        return Ok();
    }
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) {
        return Err(Error::from_errno("eventfd for the ttrpc accept loop"));
    }
    impl_->wake_fd = std::move(wake);
    impl_->pool = std::make_unique<WorkerPool>(impl_->options.workers, impl_->options.max_workers,
                                               impl_->options.max_queued_requests);
    impl_->started = true;
    impl_->watchdog =
        OwnedThread("ttrpc watchdog", [impl = impl_.get()] { impl->watchdog_loop(); });
    for (const auto& conn : impl_->connections) {
        impl_->launch_reader(conn);
    }
    if (impl_->listen_fd) {
        impl_->accept_thread = OwnedThread("ttrpc accept " + impl_->listen_path,
                                           [impl = impl_.get()] { impl->accept_loop(); });
    }
    return Ok();
}

void Server::Impl::accept_loop() {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {wake_fd.get(), POLLIN, 0}};
    for (;;) {
        const int n = ::poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            spdlog::error("ttrpc: poll on {}: {}", listen_path, Error::from_errno("poll").str());
            return;
        }
        if (fds[1].revents != 0) {
            return;
        }
        UniqueFd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd) {
            const Error e = Error::from_errno("accept4 " + listen_path);
            if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) {
                continue;
            }
            spdlog::warn("ttrpc: {}", e.str());
            // Out of fds or memory: back off instead of spinning; shutdown still wakes us.
            ::poll(&fds[1], 1, 100);
            if (fds[1].revents != 0) {
                return;
            }
            continue;
        }
        if (auto added = add_connection(std::move(fd)); !added) {
            spdlog::warn("ttrpc: {}", added.error().str());
        }
    }
}

void Server::shutdown() {
    Impl& s = *impl_;
    std::vector<std::shared_ptr<Connection>> connections;
    OwnedThread accept_thread;
    {
        std::lock_guard lock(s.mu);
        if (s.stopped) {
            return;
        }
        s.stopped = true;
        connections.swap(s.connections);
        accept_thread = std::move(s.accept_thread);
    }
    if (s.wake_fd) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(s.wake_fd.get(), &one, sizeof one);
    }
    accept_thread.stop_and_join();
    {
        std::lock_guard lock(s.watchdog_mu);
        s.watchdog_stop = true;
    }
    s.watchdog_cv.notify_one();
    s.watchdog.stop_and_join();
    if (s.listen_fd) {
        s.listen_fd.reset();
        ::unlink(s.listen_path.c_str());
    }
    for (const auto& conn : connections) {
        conn->close();
    }
    for (const auto& conn : connections) {
        conn->reader.stop_and_join();
    }
    if (s.pool) {
        s.pool->stop();
    }
}

size_t Server::connection_count() const {
    std::lock_guard lock(impl_->mu);
    size_t n = 0;
    for (const auto& conn : impl_->connections) {
        n += conn->finished.load() ? 0 : 1;
    }
    return n;
}

} // namespace runvm::rpc
