// Client and server together over socketpairs and Unix sockets: calls, errors, metadata,
// deadlines, size limits, concurrency, shutdown.
#define BOOST_TEST_MODULE rpc_server_client_test
#include <atomic>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "containerd/api/runtime/task/v2/shim.pb.h"
#include "rpc/test_support.hpp"
#include "rpc/unix_socket.hpp"

using namespace runvm;
using namespace runvm::rpc;
using namespace runvm::rpc::test;
using namespace std::chrono_literals;

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

} // namespace

BOOST_AUTO_TEST_CASE(unary_echo) {
    Harness h;
    std::string resp;
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "ping", resp).ok());
    BOOST_TEST(resp == "ping");
    const std::string binary("\0\1\2\xff", 4);
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", binary, resp).ok());
    BOOST_TEST(resp == binary);
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "", resp).ok());
    BOOST_TEST(resp.empty());
}

BOOST_AUTO_TEST_CASE(typed_call_with_task_api_messages) {
    Harness h;
    h.server
        ->register_typed<containerd::task::v2::StateRequest, containerd::task::v2::StateResponse>(
            "containerd.task.v2.Task", "State",
            [](const CallContext&, const containerd::task::v2::StateRequest& req,
               containerd::task::v2::StateResponse& resp) {
                if (req.id() != "c1") {
                    return Status{kNotFound, "container " + req.id()};
                }
                resp.set_id(req.id());
                resp.set_pid(42);
                resp.set_status(containerd::v1::types::RUNNING);
                return Status{};
            });
    containerd::task::v2::StateRequest req;
    req.set_id("c1");
    containerd::task::v2::StateResponse resp;
    const Status st = h.client->call("containerd.task.v2.Task", "State", req, &resp);
    BOOST_TEST(st.ok());
    BOOST_TEST(resp.pid() == 42u);
    BOOST_TEST(resp.status() == containerd::v1::types::RUNNING);

    req.set_id("nope");
    const Status missing = h.client->call("containerd.task.v2.Task", "State", req, &resp);
    BOOST_TEST(missing.code == kNotFound);
    BOOST_TEST(missing.message == "container nope");

    // A payload that is not a StateRequest: InvalidArgument from the typed wrapper.
    std::string raw;
    const Status bad = h.client->call_raw("containerd.task.v2.Task", "State", "\xff\xff", raw);
    BOOST_TEST(bad.code == kInvalidArgument);
}

BOOST_AUTO_TEST_CASE(error_status_propagates_without_payload) {
    Harness h;
    std::string resp = "stale";
    const Status st = h.client->call_raw("test.Echo", "Fail", "9:precondition failed", resp);
    BOOST_TEST(st.code == kFailedPrecondition);
    BOOST_TEST(st.message == "precondition failed");
    BOOST_TEST(resp.empty());
}

BOOST_AUTO_TEST_CASE(unknown_service_or_method_is_unimplemented) {
    Harness h;
    std::string resp;
    Status st = h.client->call_raw("test.Echo", "Nope", "", resp);
    BOOST_TEST(st.code == kUnimplemented);
    BOOST_TEST(st.message.find("Nope") != std::string::npos);
    st = h.client->call_raw("no.Such", "Echo", "", resp);
    BOOST_TEST(st.code == kUnimplemented);
    BOOST_TEST(st.message.find("no.Such") != std::string::npos);
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "still", resp).ok());
}

BOOST_AUTO_TEST_CASE(handler_exception_becomes_internal) {
    Harness h;
    h.server->register_method("test.Echo", "Throw",
                              [](const CallContext&, std::string_view, std::string&) -> Status {
                                  throw std::runtime_error("boom");
                              });
    std::string resp;
    const Status st = h.client->call_raw("test.Echo", "Throw", "", resp);
    BOOST_TEST(st.code == kInternal);
    BOOST_TEST(st.message.find("boom") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metadata_and_deadline_reach_the_handler) {
    Harness h;
    h.server->register_method("test.Echo", "Meta",
                              [](const CallContext& ctx, std::string_view, std::string& resp) {
                                  for (const auto& [k, v] : ctx.metadata) {
                                      resp += k + "=" + v + ";";
                                  }
                                  resp += ctx.deadline ? "deadline" : "none";
                                  return Status{};
                              });
    CallOptions opts;
    opts.metadata = {{"containerd-namespace", "k8s.io"}, {"a", "1"}, {"a", "2"}};
    std::string resp;
    BOOST_TEST(h.client->call_raw("test.Echo", "Meta", "", resp, opts).ok());
    BOOST_TEST(resp == "containerd-namespace=k8s.io;a=1;a=2;none");
    opts.timeout = 5s;
    BOOST_TEST(h.client->call_raw("test.Echo", "Meta", "", resp, opts).ok());
    BOOST_TEST(resp == "containerd-namespace=k8s.io;a=1;a=2;deadline");
}

BOOST_AUTO_TEST_CASE(deadline_exceeded_and_late_response_dropped) {
    Harness h;
    CallOptions opts;
    opts.timeout = 50ms;
    std::string resp;
    const auto start = std::chrono::steady_clock::now();
    const Status st = h.client->call_raw("test.Echo", "Sleep", "1000", resp, opts);
    const double elapsed = ms_since(start);
    BOOST_TEST(st.code == kDeadlineExceeded);
    BOOST_TEST(elapsed >= 45.0);
    BOOST_TEST(elapsed < 900.0); // generous: the machine is shared
    // The late "slept" response arrives while this call waits: it must not be taken for
    // this call's answer.
    BOOST_TEST(h.client->call_raw("test.Echo", "Sleep", "1100", resp).ok());
    BOOST_TEST(resp == "slept");
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "after", resp).ok());
    BOOST_TEST(resp == "after");
}

BOOST_AUTO_TEST_CASE(four_mib_limit) {
    Harness h;
    std::string resp;
    // Request body = 2+9 (service) + 2+4 (method) + 1+4 (payload tag, 4-byte length).
    const size_t overhead = 2 + 9 + 2 + 4 + 1 + 4;
    const std::string fits(kMaxMessageLength - overhead, 'x');
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", fits, resp).ok());
    BOOST_TEST(resp.size() == fits.size());
    // The response (status + payload tag/length) is 7 bytes larger than the payload: too
    // big to send, so the server says so instead.
    const std::string response_fits(kMaxMessageLength - 2 - 1 - 4, 'y');
    h.server->register_method("test.Echo", "Big",
                              [&](const CallContext&, std::string_view, std::string& r) {
                                  r = response_fits;
                                  return Status{};
                              });
    BOOST_TEST(h.client->call_raw("test.Echo", "Big", "", resp).ok());
    BOOST_TEST(resp.size() == response_fits.size());
    h.server->register_method("test.Echo", "TooBig",
                              [&](const CallContext&, std::string_view, std::string& r) {
                                  r = response_fits + "z";
                                  return Status{};
                              });
    BOOST_TEST(h.client->call_raw("test.Echo", "TooBig", "", resp).code == kResourceExhausted);

    const std::string over(kMaxMessageLength - overhead + 1, 'x');
    const Status st = h.client->call_raw("test.Echo", "Echo", over, resp);
    BOOST_TEST(st.code == kResourceExhausted);
    BOOST_TEST(h.client->connected());
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "small", resp).ok());
    BOOST_TEST(resp == "small");
}

BOOST_AUTO_TEST_CASE(hundred_concurrent_calls_with_a_slow_handler) {
    Harness h;
    std::atomic<int> ok{0};
    std::vector<std::thread> callers;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) {
        callers.emplace_back([&, i] {
            std::string resp;
            const bool slow = i % 2 == 0;
            const Status st = h.client->call_raw("test.Echo", slow ? "Sleep" : "Echo",
                                                 slow ? "200" : std::to_string(i), resp);
            if (st.ok() && resp == (slow ? "slept" : std::to_string(i))) {
                ++ok;
            }
        });
    }
    for (auto& t : callers) {
        t.join();
    }
    BOOST_TEST(ok.load() == 100);
    // 50 handlers of 200 ms each run side by side, not one after another (10 s); the
    // bound leaves room for a loaded 2-core machine.
    BOOST_TEST(ms_since(start) < 5000.0);
}

BOOST_AUTO_TEST_CASE(slow_call_does_not_hold_up_the_next_on_its_connection) {
    ServerOptions options;
    options.handoff_after = std::chrono::microseconds(2000);
    Harness h(options);
    Status slow;
    std::thread caller([&] {
        std::string resp;
        slow = h.client->call_raw("test.Echo", "Sleep", "1500", resp);
    });
    std::this_thread::sleep_for(50ms);
    const auto start = std::chrono::steady_clock::now();
    std::string resp;
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "fast", resp).ok());
    BOOST_TEST(ms_since(start) < 700.0); // the watchdog handed reading on after ~2-3 ms
    caller.join();
    BOOST_TEST(slow.ok());
}

BOOST_AUTO_TEST_CASE(shutdown_with_idle_client_does_not_hang) {
    Harness h;
    std::string resp;
    BOOST_TEST(h.client->call_raw("test.Echo", "Echo", "x", resp).ok());
    const auto start = std::chrono::steady_clock::now();
    h.server->shutdown();
    BOOST_TEST(ms_since(start) < 2000.0);
    const Status st = h.client->call_raw("test.Echo", "Echo", "x", resp);
    BOOST_TEST(st.code == kUnavailable);
    BOOST_TEST(!h.client->connected());
}

BOOST_AUTO_TEST_CASE(connection_loss_fails_pending_calls) {
    Harness h;
    Status st;
    std::thread caller([&] {
        std::string resp;
        st = h.client->call_raw("test.Echo", "Sleep", "10000", resp);
    });
    std::this_thread::sleep_for(100ms);
    const auto start = std::chrono::steady_clock::now();
    // The handler sees cancelled() and returns; shutdown waits for it, not 10 s.
    h.server->shutdown();
    caller.join();
    BOOST_TEST(ms_since(start) < 2000.0);
    BOOST_TEST(st.code == kUnavailable);
}

BOOST_AUTO_TEST_CASE(client_close_with_pending_call) {
    Harness h;
    Status st;
    std::thread caller([&] {
        std::string resp;
        st = h.client->call_raw("test.Echo", "Sleep", "2000", resp);
    });
    std::this_thread::sleep_for(100ms);
    h.client->close();
    caller.join();
    BOOST_TEST(st.code == kUnavailable);
}

BOOST_AUTO_TEST_CASE(unix_socket_listen_connect_and_stale_socket) {
    TempDir dir;
    const std::string path = dir.path() + "/ttrpc.sock";
    {
        // Closing the listening fd without unlinking is what a crashed server leaves.
        auto stale = listen_unix_socket(path);
        BOOST_REQUIRE(stale.ok());
    }
    BOOST_TEST(::access(path.c_str(), F_OK) == 0);
    {
        Server dead;
        BOOST_REQUIRE(dead.listen_unix(path).ok()); // the stale file is replaced
        Server second;
        const auto busy = second.listen_unix(path);
        BOOST_TEST(!busy.ok()); // a live socket is not stale
        dead.shutdown();
        BOOST_TEST(::access(path.c_str(), F_OK) != 0); // unlinked on shutdown
    }
    Server server;
    register_test_handlers(server);
    BOOST_REQUIRE(server.listen_unix(path).ok());
    BOOST_REQUIRE(server.start().ok());
    auto client = Client::connect_unix(path, 1000ms);
    BOOST_REQUIRE(client.ok());
    std::string resp;
    BOOST_TEST(client->call_raw("test.Echo", "Echo", "over unix", resp).ok());
    BOOST_TEST(resp == "over unix");
    BOOST_TEST(server.connection_count() == 1u);

    const auto start = std::chrono::steady_clock::now();
    auto missing = Client::connect_unix(dir.path() + "/missing.sock", 100ms);
    BOOST_TEST(!missing.ok());
    BOOST_TEST(ms_since(start) >= 90.0);
    BOOST_TEST(missing.error().code() == ENOENT);
}
