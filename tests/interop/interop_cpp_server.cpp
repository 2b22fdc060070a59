// interop-cpp-server serves runvm.interop.v1.Echo with runvm's C++ ttRPC server on a Unix
// socket until SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <pthread.h>

#include "rpc/server.hpp"
#include "tests/interop/echo_service.hpp"

int main(int argc, char** argv) {
    std::string socket;
    size_t workers = 4;
    CLI::App app{"runvm.interop.v1.Echo over runvm's C++ ttRPC server"};
    app.add_option("--socket", socket, "Unix socket path to listen on")->required();
    app.add_option("--workers", workers, "handler threads");
    CLI11_PARSE(app, argc, argv);

    // Blocked before any thread starts, so only sigwait below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    runvm::rpc::Server server(runvm::rpc::ServerOptions{.workers = workers});
    runvm::interop::register_echo_service(server);
    if (auto r = server.listen_unix(socket); !r.ok()) {
        std::fprintf(stderr, "interop-cpp-server: %s\n", r.error().str().c_str());
        return 1;
    }
    if (auto r = server.start(); !r.ok()) {
        std::fprintf(stderr, "interop-cpp-server: start: %s\n", r.error().str().c_str());
        return 1;
    }
    std::fprintf(stderr, "interop-cpp-server: listening on %s\n", socket.c_str());

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "interop-cpp-server: signal %d, shutting down\n", sig);
    server.shutdown();
    return 0;
}
