// Events.Forward client with a queue and bounded retries (containerd may be restarting).
#include "shim/containerd/event_publisher.hpp"

#include <spdlog/spdlog.h>

#include "containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "google/protobuf/empty.pb.h"
#include "shim/containerd/shim_address.hpp"
#include "shim/containerd/time_util.hpp"

namespace runvm::containerd {

using namespace std::chrono_literals;

::containerd::types::Envelope make_envelope(const std::string& ns, const std::string& topic,
                                            const google::protobuf::Message& event) {
    ::containerd::types::Envelope env;
    *env.mutable_timestamp() = timestamp_now();
    env.set_namespace_(ns);
    env.set_topic(topic);
    env.mutable_event()->set_type_url(event.GetDescriptor()->full_name());
    env.mutable_event()->set_value(event.SerializeAsString());
    return env;
}

EventPublisher::EventPublisher(std::string ttrpc_address, std::string ns)
    : address_(std::move(ttrpc_address)), ns_(std::move(ns)) {
    // A publish in flight when the stop comes may still take its own timeout.
    thread_ = OwnedThread("event publisher", [this] { run(); },
                          {.wake = {}, .stop_timeout = 2 * kDrainTimeout});
}

EventPublisher::~EventPublisher() {
    (void)flush(kDrainTimeout);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.stop_and_join();
}

void EventPublisher::publish(const std::string& topic, const google::protobuf::Message& event) {
    spdlog::debug("event {} {}", topic, event.ShortDebugString());
    {
        std::lock_guard lock(mu_);
        queue_.push_back(make_envelope(ns_, topic, event));
    }
    cv_.notify_all();
}

bool EventPublisher::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void EventPublisher::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
            return;
        }
        auto envelope = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        lock.unlock();
        // containerd's own publisher retries a failed forward a few times, then drops it.
        bool sent = false;
        for (int attempt = 0; attempt < 5 && !sent; ++attempt) {
            if (attempt) {
                std::this_thread::sleep_for(100ms * attempt);
            }
            sent = forward(envelope);
        }
        if (!sent) {
            spdlog::warn("event {} dropped: containerd at {} did not take it", envelope.topic(),
                         address_);
        }
        lock.lock();
        busy_ = false;
        cv_.notify_all();
    }
}

bool EventPublisher::forward(const ::containerd::types::Envelope& envelope) {
    if (address_.empty()) {
        return true;
    }
    if (!client_ || !client_->connected()) {
        client_.reset();
        std::string path = address_;
        if (auto p = socket_path(address_)) {
            path = *p;
        }
        auto c = rpc::Client::connect_unix(path, 1s);
        if (!c) {
            spdlog::debug("events: connect {}: {}", path, c.error().str());
            return false;
        }
        client_.emplace(std::move(*c));
    }
    ::containerd::services::events::ttrpc::v1::ForwardRequest req;
    *req.mutable_envelope() = envelope;
    google::protobuf::Empty resp;
    rpc::CallOptions opts;
    opts.timeout = 5s;
    opts.metadata = {{"containerd-namespace-ttrpc", ns_}};
    const auto st =
        client_->call("containerd.services.events.ttrpc.v1.Events", "Forward", req, &resp, opts);
    if (!st.ok()) {
        spdlog::debug("events: Forward {}: {}", envelope.topic(), st.str());
        if (st.code == rpc::kUnavailable) {
            client_.reset();
        }
        return false;
    }
    return true;
}

} // namespace runvm::containerd
