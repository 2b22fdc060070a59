// The C++ client's interop scenarios (see cpp_client_scenarios.hpp).
#include "tests/interop/cpp_client_scenarios.hpp"

#include <chrono>
#include <cstdint>
#include <thread>

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include "rpc/frame.hpp"
#include "tests/interop/echo_service.hpp"

namespace runvm::interop {

namespace {

using google::protobuf::BytesValue;
using google::protobuf::Empty;
using google::protobuf::StringValue;
using namespace std::chrono_literals;

constexpr std::chrono::seconds kCallTimeout{10};

rpc::CallOptions with_timeout() {
    rpc::CallOptions opts;
    opts.timeout = kCallTimeout;
    return opts;
}

std::string pattern(size_t n, uint8_t seed) {
    std::string p(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        p[i] = static_cast<char>(static_cast<uint8_t>(i * 31) ^ seed);
    }
    return p;
}

Result<void> echo(rpc::Client& client, const std::string& payload) {
    BytesValue req;
    req.set_value(payload);
    BytesValue resp;
    rpc::Status st = client.call(kService, kMethodEcho, req, &resp, with_timeout());
    if (!st.ok()) {
        return Err(Error::msg("Echo of " + std::to_string(payload.size()) + " bytes: " + st.str()));
    }
    if (resp.value() != payload) {
        return Err(Error::msg("Echo of " + std::to_string(payload.size()) + " bytes answered " +
                              std::to_string(resp.value().size()) + " bytes that differ"));
    }
    return Ok();
}

Result<void> echo_small(rpc::Client& client) {
    return echo(client, std::string("hello interop\0\xff\x01", 16));
}

Result<void> echo_empty(rpc::Client& client) {
    return echo(client, "");
}

Result<void> echo_max(rpc::Client& client) {
    return echo(client, pattern(max_echo_payload(), 0x5a));
}

Result<void> oversize(rpc::Client& client) {
    BytesValue req;
    req.set_value(pattern(rpc::kMaxMessageLength + 1024, 0x33));
    BytesValue resp;
    rpc::Status st = client.call(kService, kMethodEcho, req, &resp, with_timeout());
    if (st.code != rpc::kResourceExhausted) {
        return Err(Error::msg("Echo of " + std::to_string(req.value().size()) +
                              " bytes: want ResourceExhausted, got " + st.str()));
    }
    if (auto r = echo(client, "after oversize"); !r.ok()) {
        return Err(r.error().context("connection unusable after oversize"));
    }
    return Ok();
}

Result<void> error_status(rpc::Client& client) {
    struct Case {
        int32_t code;
        std::string message;
    };
    const Case cases[] = {
        {rpc::kInvalidArgument, "bad argument"},
        {rpc::kNotFound, "no such thing: here, with colons: and ünïcode"},
        {rpc::kUnavailable, ""},
    };
    for (const auto& c : cases) {
        StringValue req;
        req.set_value(std::to_string(c.code) + ":" + c.message);
        Empty resp;
        rpc::Status st = client.call(kService, kMethodFail, req, &resp, with_timeout());
        if (st.code != c.code || st.message != c.message) {
            return Err(Error::msg("Fail \"" + req.value() + "\": want " +
                                  rpc::Status{c.code, c.message}.str() + ", got " + st.str()));
        }
    }
    return Ok();
}

Result<void> unimplemented(rpc::Client& client) {
    Empty req;
    Empty resp;
    rpc::Status st = client.call(kService, "NoSuchMethod", req, &resp, with_timeout());
    if (st.code != rpc::kUnimplemented) {
        return Err(Error::msg("NoSuchMethod: want Unimplemented, got " + st.str()));
    }
    return Ok();
}

Result<void> metadata(rpc::Client& client) {
    rpc::CallOptions opts = with_timeout();
    opts.metadata = {{"x-runvm-b", "2"}, {"x-runvm-a", "1"}, {"x-runvm-b", "3"}};
    Empty req;
    StringValue resp;
    rpc::Status st = client.call(kService, kMethodMetadata, req, &resp, opts);
    if (!st.ok()) {
        return Err(Error::msg("Metadata: " + st.str()));
    }
    const std::string want = "x-runvm-a=1;x-runvm-b=2;x-runvm-b=3";
    if (resp.value() != want) {
        return Err(Error::msg("Metadata: want \"" + want + "\", got \"" + resp.value() + "\""));
    }
    return Ok();
}

Result<void> concurrent_100(rpc::Client& client) {
    constexpr size_t kCalls = 100;
    std::vector<std::string> errors(kCalls);
    {
        std::vector<std::jthread> callers;
        callers.reserve(kCalls);
        for (size_t i = 0; i < kCalls; ++i) {
            callers.emplace_back([&client, &errors, i] {
                std::string payload = "call " + std::to_string(i) + ":" +
                                      pattern(100 + i * 997, static_cast<uint8_t>(i));
                if (auto r = echo(client, payload); !r.ok()) {
                    errors[i] = r.error().str();
                }
            });
        }
    } // the jthreads join here
    for (size_t i = 0; i < kCalls; ++i) {
        if (!errors[i].empty()) {
            return Err(Error::msg("call " + std::to_string(i) + " of " + std::to_string(kCalls) +
                                  ": " + errors[i]));
        }
    }
    return Ok();
}

Result<void> deadline(rpc::Client& client) {
    rpc::CallOptions opts;
    opts.timeout = 100ms;
    StringValue req;
    req.set_value("500");
    Empty resp;
    const auto start = std::chrono::steady_clock::now();
    rpc::Status st = client.call(kService, kMethodSleep, req, &resp, opts);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
    if (st.code != rpc::kDeadlineExceeded) {
        return Err(Error::msg("Sleep 500 ms with a 100 ms deadline: want DeadlineExceeded, got " +
                              st.str()));
    }
    if (elapsed > 400ms) {
        return Err(Error::msg("Sleep 500 ms with a 100 ms deadline returned after " +
                              std::to_string(elapsed_ms.count()) + " ms"));
    }
    // The server still answers the abandoned call later; the connection must shrug it off.
    if (auto r = echo(client, "after deadline"); !r.ok()) {
        return Err(r.error().context("connection unusable after a deadline"));
    }
    std::this_thread::sleep_for(500ms);
    if (auto r = echo(client, "after the late response"); !r.ok()) {
        return Err(r.error().context("connection unusable after the late response"));
    }
    return Ok();
}

} // namespace

const std::vector<Scenario>& client_scenarios() {
    static const std::vector<Scenario> scenarios = {
        {"echo_small", echo_small},     {"echo_empty", echo_empty},
        {"echo_max", echo_max},         {"oversize", oversize},
        {"error_status", error_status}, {"unimplemented", unimplemented},
        {"metadata", metadata},         {"concurrent_100", concurrent_100},
        {"deadline", deadline},
    };
    return scenarios;
}

} // namespace runvm::interop
