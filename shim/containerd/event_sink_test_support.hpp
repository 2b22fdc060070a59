// A stand-in for containerd's ttRPC events service in tests: records every forwarded
// envelope.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "google/protobuf/empty.pb.h"
#include "rpc/server.hpp"

namespace runvm::containerd::test {

class EventSink {
public:
    EventSink() {
        path_ = "/tmp/runvm-shim-events-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter()++) + ".sock";
        server_.register_typed<::containerd::services::events::ttrpc::v1::ForwardRequest,
                               google::protobuf::Empty>(
            "containerd.services.events.ttrpc.v1.Events", "Forward",
            [this](const rpc::CallContext&, const auto& req, auto&) {
                std::lock_guard lock(mu_);
                envelopes_.push_back(req.envelope());
                cv_.notify_all();
                return rpc::Status::Ok();
            });
        (void)server_.listen_unix(path_);
        (void)server_.start();
    }
    ~EventSink() { server_.shutdown(); }

    const std::string& path() const { return path_; }
    std::vector<std::string> topics() {
        std::lock_guard lock(mu_);
        std::vector<std::string> t;
        for (const auto& e : envelopes_) {
            t.push_back(e.topic());
        }
        return t;
    }
    std::vector<::containerd::types::Envelope> envelopes() {
        std::lock_guard lock(mu_);
        return envelopes_;
    }
    bool wait_for_count(size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return envelopes_.size() >= n; });
    }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    std::string path_;
    rpc::Server server_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<::containerd::types::Envelope> envelopes_;
};

} // namespace runvm::containerd::test
