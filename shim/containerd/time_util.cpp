// system_clock -> google.protobuf.Timestamp.
#include "shim/containerd/time_util.hpp"

namespace runvm::containerd {

google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
    google::protobuf::Timestamp ts;
    ts.set_seconds(ns.count() / 1'000'000'000);
    ts.set_nanos(static_cast<int32_t>(ns.count() % 1'000'000'000));
    return ts;
}

} // namespace runvm::containerd
