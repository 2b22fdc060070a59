// conns connections, callers threads on each doing sequential Echo calls for a fixed time.
#include "tests/interop/cpp_client_bench.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include <google/protobuf/wrappers.pb.h>
#include <sys/resource.h>

#include "rpc/client.hpp"
#include "tests/interop/echo_service.hpp"

namespace runvm::interop {

namespace {

using Clock = std::chrono::steady_clock;

struct CallerResult {
    std::vector<Clock::duration> latencies;
    std::string error;
};

void call_until(rpc::Client& client, const std::string& payload, Clock::time_point stop,
                CallerResult& out) {
    google::protobuf::BytesValue req;
    req.set_value(payload);
    google::protobuf::BytesValue resp;
    rpc::CallOptions opts;
    opts.timeout = std::chrono::seconds(10);
    out.latencies.reserve(1 << 16);
    while (Clock::now() < stop) {
        const auto t0 = Clock::now();
        rpc::Status st = client.call(kService, kMethodEcho, req, &resp, opts);
        if (!st.ok() || resp.value() != payload) {
            out.error = "Echo: " + st.str();
            return;
        }
        out.latencies.push_back(Clock::now() - t0);
    }
}

double micros(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

// User plus system time this process has used so far, in microseconds.
double process_cpu_us() {
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }
    auto us = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
    };
    return us(ru.ru_utime) + us(ru.ru_stime);
}

} // namespace

Result<void> run_bench(const BenchConfig& config) {
    std::vector<rpc::Client> clients;
    clients.reserve(config.conns);
    for (size_t i = 0; i < config.conns; ++i) {
        RUNVM_ASSIGN_OR_RETURN(auto client,
                               rpc::Client::connect_unix(config.socket, std::chrono::seconds(5)));
        clients.push_back(std::move(client));
    }
    const std::string payload(config.payload, 'b');
    // One warm-up call per connection, so connection setup is not timed.
    for (auto& client : clients) {
        CallerResult warm;
        call_until(client, payload, Clock::now() + std::chrono::milliseconds(1), warm);
        if (!warm.error.empty()) {
            return Err(Error::msg("warm-up: " + warm.error));
        }
    }

    const size_t total = config.conns * config.callers;
    std::vector<CallerResult> results(total);
    const double cpu_start = process_cpu_us();
    const auto start = Clock::now();
    const auto stop = start + config.duration;
    {
        std::vector<std::jthread> callers;
        callers.reserve(total);
        for (size_t i = 0; i < total; ++i) {
            callers.emplace_back(call_until, std::ref(clients[i % config.conns]),
                                 std::cref(payload), stop, std::ref(results[i]));
        }
    } // the jthreads join here
    const auto elapsed = Clock::now() - start;
    const double cpu_us = process_cpu_us() - cpu_start;

    std::vector<Clock::duration> all;
    for (const auto& r : results) {
        if (!r.error.empty()) {
            return Err(Error::msg(r.error));
        }
        all.insert(all.end(), r.latencies.begin(), r.latencies.end());
    }
    if (all.empty()) {
        return Err(Error::msg("no call completed"));
    }
    std::sort(all.begin(), all.end());
    auto percentile = [&all](double p) {
        return micros(all[static_cast<size_t>(p * static_cast<double>(all.size() - 1))]);
    };
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::printf("BENCH client=cpp conns=%zu callers=%zu calls=%zu rps=%.0f p50_us=%.1f "
                "p99_us=%.1f client_cpu_us=%.0f\n",
                config.conns, config.callers, all.size(), static_cast<double>(all.size()) / seconds,
                percentile(0.50), percentile(0.99), cpu_us);
    return Ok();
}

} // namespace runvm::interop
