// Timestamps for the task API (google.protobuf.Timestamp).
#pragma once

#include <chrono>

#include <google/protobuf/timestamp.pb.h>

namespace runvm::containerd {

google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point t);
inline google::protobuf::Timestamp timestamp_now() {
    return to_timestamp(std::chrono::system_clock::now());
}

} // namespace runvm::containerd
