// Status: the outcome of one ttRPC call, a google.rpc.Status code plus a message.
#pragma once

#include <cstdint>
#include <string>

namespace runvm::rpc {

// google.rpc.Code values (googleapis/google/rpc/code.proto), as ttRPC puts them on the wire.
inline constexpr int32_t kOk = 0;
inline constexpr int32_t kCancelled = 1;
inline constexpr int32_t kUnknown = 2;
inline constexpr int32_t kInvalidArgument = 3;
inline constexpr int32_t kDeadlineExceeded = 4;
inline constexpr int32_t kNotFound = 5;
inline constexpr int32_t kAlreadyExists = 6;
inline constexpr int32_t kPermissionDenied = 7;
inline constexpr int32_t kResourceExhausted = 8;
inline constexpr int32_t kFailedPrecondition = 9;
inline constexpr int32_t kAborted = 10;
inline constexpr int32_t kOutOfRange = 11;
inline constexpr int32_t kUnimplemented = 12;
inline constexpr int32_t kInternal = 13;
inline constexpr int32_t kUnavailable = 14;
inline constexpr int32_t kDataLoss = 15;
inline constexpr int32_t kUnauthenticated = 16;

struct Status {
    // The same constants, so both rpc::kNotFound and Status::kNotFound read naturally.
    static constexpr int32_t kOk = rpc::kOk;
    static constexpr int32_t kCancelled = rpc::kCancelled;
    static constexpr int32_t kUnknown = rpc::kUnknown;
    static constexpr int32_t kInvalidArgument = rpc::kInvalidArgument;
    static constexpr int32_t kDeadlineExceeded = rpc::kDeadlineExceeded;
    static constexpr int32_t kNotFound = rpc::kNotFound;
    static constexpr int32_t kAlreadyExists = rpc::kAlreadyExists;
    static constexpr int32_t kPermissionDenied = rpc::kPermissionDenied;
    static constexpr int32_t kResourceExhausted = rpc::kResourceExhausted;
    static constexpr int32_t kFailedPrecondition = rpc::kFailedPrecondition;
    static constexpr int32_t kAborted = rpc::kAborted;
    static constexpr int32_t kOutOfRange = rpc::kOutOfRange;
    static constexpr int32_t kUnimplemented = rpc::kUnimplemented;
    static constexpr int32_t kInternal = rpc::kInternal;
    static constexpr int32_t kUnavailable = rpc::kUnavailable;
    static constexpr int32_t kDataLoss = rpc::kDataLoss;
    static constexpr int32_t kUnauthenticated = rpc::kUnauthenticated;

    int32_t code = kOk;
    std::string message;

    bool ok() const { return code == kOk; }

    static Status Ok() { return Status{}; }
    static Status error(int32_t c, std::string msg) { return Status{c, std::move(msg)}; }

    // "NotFound: container abc" (or "OK").
    std::string str() const;
};

// "NotFound", "DeadlineExceeded", ... ; "Code(42)" for values outside google.rpc.Code.
std::string code_name(int32_t code);

} // namespace runvm::rpc
