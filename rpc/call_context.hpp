// CallContext: what a server handler learns about a call besides its request message.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runvm::rpc {

// ttRPC request metadata (KeyValue pairs), in wire order; keys may repeat.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct CallContext {
    Metadata metadata;
    // From the request's timeout_nano; absent when the client sent no timeout.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    // The stream id of the call on its connection (odd, chosen by the client).
    uint32_t stream_id = 0;
    // Set when the call's connection closes or the server shuts down: long handlers (a
    // process wait) poll it so shutdown does not wait for them.
    std::shared_ptr<const std::atomic<bool>> cancel_flag;

    bool cancelled() const { return cancel_flag && cancel_flag->load(std::memory_order_relaxed); }

    bool expired() const {
        return deadline.has_value() && std::chrono::steady_clock::now() >= *deadline;
    }
    // The first value of `key`, or nullptr.
    const std::string* find(std::string_view key) const {
        for (const auto& [k, v] : metadata) {
            if (k == key) {
                return &v;
            }
        }
        return nullptr;
    }
};

} // namespace runvm::rpc
