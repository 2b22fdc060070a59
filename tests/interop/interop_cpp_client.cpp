// interop-cpp-client runs the interop scenarios (or, with --bench, a throughput run) against
// a runvm.interop.v1.Echo ttRPC server on a Unix socket; exits non-zero on any mismatch.
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "rpc/client.hpp"
#include "tests/interop/cpp_client_bench.hpp"
#include "tests/interop/cpp_client_scenarios.hpp"

int main(int argc, char** argv) {
    runvm::interop::BenchConfig bench;
    bool run_bench = false;
    int64_t duration_ms = 3000;
    CLI::App app{"interop scenarios against a runvm.interop.v1.Echo ttRPC server"};
    app.add_option("--socket", bench.socket, "Unix socket path of the server")->required();
    app.add_flag("--bench", run_bench, "measure throughput instead of running the scenarios");
    app.add_option("--conns", bench.conns, "bench: connections");
    app.add_option("--callers", bench.callers, "bench: sequential callers per connection");
    app.add_option("--duration-ms", duration_ms, "bench: how long to call");
    app.add_option("--payload", bench.payload, "bench: Echo payload bytes");
    CLI11_PARSE(app, argc, argv);

    if (run_bench) {
        bench.duration = std::chrono::milliseconds(duration_ms);
        if (auto r = runvm::interop::run_bench(bench); !r.ok()) {
            std::fprintf(stderr, "interop-cpp-client: bench: %s\n", r.error().str().c_str());
            return 1;
        }
        return 0;
    }

    auto client = runvm::rpc::Client::connect_unix(bench.socket, std::chrono::seconds(5));
    if (!client.ok()) {
        std::fprintf(stderr, "interop-cpp-client: %s\n", client.error().str().c_str());
        return 1;
    }
    const auto& scenarios = runvm::interop::client_scenarios();
    size_t failed = 0;
    for (const auto& scenario : scenarios) {
        const auto start = std::chrono::steady_clock::now();
        auto result = scenario.run(*client);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        if (!result.ok()) {
            std::printf("FAIL %s: %s\n", scenario.name, result.error().str().c_str());
            ++failed;
            continue;
        }
        std::printf("PASS %s (%lldms)\n", scenario.name, static_cast<long long>(ms));
    }
    if (failed > 0) {
        std::printf("interop-cpp-client: %zu of %zu scenarios failed\n", failed, scenarios.size());
        return 1;
    }
    std::printf("interop-cpp-client: all %zu scenarios passed\n", scenarios.size());
    return 0;
}
