// EventPublisher: task events to containerd (Events.Forward over TTRPC_ADDRESS), in the
// order they were published, from one thread so a slow containerd never holds a handler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include <google/protobuf/message.h>

#include "base/owned_thread.hpp"
#include "containerd/api/types/event.pb.h"
#include "rpc/client.hpp"

namespace runvm::containerd {

// The topics containerd's runtime package defines (runtime/events.go).
namespace topic {
inline constexpr const char* kTaskCreate = "/tasks/create";
inline constexpr const char* kTaskStart = "/tasks/start";
inline constexpr const char* kTaskExit = "/tasks/exit";
inline constexpr const char* kTaskDelete = "/tasks/delete";
inline constexpr const char* kTaskExecAdded = "/tasks/exec-added";
inline constexpr const char* kTaskExecStarted = "/tasks/exec-started";
inline constexpr const char* kTaskOOM = "/tasks/oom";
inline constexpr const char* kTaskPaused = "/tasks/paused";
inline constexpr const char* kTaskResumed = "/tasks/resumed";
} // namespace topic

// The envelope containerd expects: the Any's type_url is the bare proto name
// ("containerd.events.TaskExit"), as gogo's typeurl writes it.
::containerd::types::Envelope make_envelope(const std::string& ns, const std::string& topic,
                                            const google::protobuf::Message& event);

class EventPublisher {
public:
    // An empty address drops events (logged at debug): `start`/`delete` and tests.
    EventPublisher(std::string ttrpc_address, std::string ns);
    // Sends what is queued (at most `kDrainTimeout`), then stops.
    ~EventPublisher();
    EventPublisher(const EventPublisher&) = delete;
    EventPublisher& operator=(const EventPublisher&) = delete;

    void publish(const std::string& topic, const google::protobuf::Message& event);
    // Waits until everything published so far was sent or given up on.
    bool flush(std::chrono::milliseconds timeout);

    static constexpr std::chrono::milliseconds kDrainTimeout{5000};

private:
    void run();
    bool forward(const ::containerd::types::Envelope& envelope);

    std::string address_;
    std::string ns_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<::containerd::types::Envelope> queue_;
    bool stopping_ = false;
    bool busy_ = false;
    std::optional<rpc::Client> client_;
    OwnedThread thread_;
};

} // namespace runvm::containerd
