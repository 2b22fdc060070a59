// ttRPC message bodies: Request/Response encoded by hand around the payload (so it is
// written with writev, never copied) and decoded with the generated ttrpc.proto code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "rpc/call_context.hpp"
#include "rpc/status.hpp"

namespace runvm::rpc {

// A message body as three pieces: head + payload + tail, in wire order.
struct EncodedBody {
    std::string head;
    std::string_view payload;
    std::string tail;

    size_t size() const { return head.size() + payload.size() + tail.size(); }
    std::string joined() const;
};

// ttrpc.Request{service, method, payload, timeout_nano, metadata}; the body refers to
// `payload`, which must outlive it.
EncodedBody encode_request(std::string_view service, std::string_view method,
                           std::string_view payload, int64_t timeout_nano,
                           const Metadata& metadata);

// ttrpc.Response{status, payload}; containerd/ttrpc sends no payload with an error status.
EncodedBody encode_response(const Status& status, std::string_view payload);

struct DecodedRequest {
    std::string service;
    std::string method;
    std::string payload;
    int64_t timeout_nano = 0;
    Metadata metadata;
};

struct DecodedResponse {
    Status status;
    std::string payload;
};

// Errors name the message type; the body is hostile input.
Result<DecodedRequest> decode_request(std::string_view body);
Result<DecodedResponse> decode_response(std::string_view body);

} // namespace runvm::rpc
