// Hand-written protobuf encoding of ttRPC's Request/Response and decoding via ttrpc.pb.h.
#include "rpc/message.hpp"

#include "rpc/frame.hpp"
#include "ttrpc.pb.h"

namespace runvm::rpc {

namespace {

// Protobuf wire types (protobuf encoding spec): 0 varint, 2 length-delimited.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, uint32_t field, uint32_t wire_type) {
    put_varint(out, (uint64_t{field} << 3) | wire_type);
}

size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

size_t bytes_field_size(uint32_t field, size_t len) {
    return varint_size(uint64_t{field} << 3) + varint_size(len) + len;
}

// proto3: empty strings and zero scalars are not written, as protoc-generated code does.
void put_bytes(std::string& out, uint32_t field, std::string_view v) {
    if (v.empty()) {
        return;
    }
    put_tag(out, field, kLengthDelimited);
    put_varint(out, v.size());
    out.append(v);
}

} // namespace

std::string EncodedBody::joined() const {
    std::string out;
    out.reserve(size());
    out.append(head).append(payload).append(tail);
    return out;
}

EncodedBody encode_request(std::string_view service, std::string_view method,
                           std::string_view payload, int64_t timeout_nano,
                           const Metadata& metadata) {
    EncodedBody body;
    body.head.reserve(service.size() + method.size() + 24);
    put_bytes(body.head, 1, service);
    put_bytes(body.head, 2, method);
    if (!payload.empty()) {
        put_tag(body.head, 3, kLengthDelimited);
        put_varint(body.head, payload.size());
        body.payload = payload;
    }
    if (timeout_nano != 0) {
        put_tag(body.tail, 4, kVarint);
        // int64 is a two's-complement varint (negative values take 10 bytes).
        put_varint(body.tail, static_cast<uint64_t>(timeout_nano));
    }
    for (const auto& [key, value] : metadata) {
        put_tag(body.tail, 5, kLengthDelimited);
        put_varint(body.tail, (key.empty() ? 0 : bytes_field_size(1, key.size())) +
                                  (value.empty() ? 0 : bytes_field_size(2, value.size())));
        put_bytes(body.tail, 1, key);
        put_bytes(body.tail, 2, value);
    }
    return body;
}

EncodedBody encode_response(const Status& status, std::string_view payload) {
    EncodedBody body;
    // Always present (Go's ttrpc always sets it), even for OK with an empty message.
    const size_t status_len =
        (status.code == 0 ? 0
                          : varint_size(uint64_t{1} << 3) +
                                varint_size(static_cast<uint64_t>(int64_t{status.code}))) +
        (status.message.empty() ? 0 : bytes_field_size(2, status.message.size()));
    put_tag(body.head, 1, kLengthDelimited);
    put_varint(body.head, status_len);
    if (status.code != 0) {
        put_tag(body.head, 1, kVarint);
        // int32 negative values are sign-extended to 64 bits on the wire.
        put_varint(body.head, static_cast<uint64_t>(int64_t{status.code}));
    }
    put_bytes(body.head, 2, status.message);
    if (status.ok() && !payload.empty()) {
        put_tag(body.head, 2, kLengthDelimited);
        put_varint(body.head, payload.size());
        body.payload = payload;
    }
    return body;
}

Result<DecodedRequest> decode_request(std::string_view body) {
    if (body.size() > kMaxMessageLength) {
        return Err(Error::msg("ttrpc.Request of " + std::to_string(body.size()) +
                              " bytes exceeds the message limit"));
    }
    ttrpc::Request msg;
    if (!msg.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        return Err(Error::msg("parse ttrpc.Request (" + std::to_string(body.size()) + " bytes)"));
    }
    DecodedRequest req;
    req.service = std::move(*msg.mutable_service());
    req.method = std::move(*msg.mutable_method());
    req.payload = std::move(*msg.mutable_payload());
    req.timeout_nano = msg.timeout_nano();
    req.metadata.reserve(static_cast<size_t>(msg.metadata_size()));
    for (auto& kv : *msg.mutable_metadata()) {
        req.metadata.emplace_back(std::move(*kv.mutable_key()), std::move(*kv.mutable_value()));
    }
    return req;
}

Result<DecodedResponse> decode_response(std::string_view body) {
    if (body.size() > kMaxMessageLength) {
        return Err(Error::msg("ttrpc.Response of " + std::to_string(body.size()) +
                              " bytes exceeds the message limit"));
    }
    ttrpc::Response msg;
    if (!msg.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        return Err(Error::msg("parse ttrpc.Response (" + std::to_string(body.size()) + " bytes)"));
    }
    DecodedResponse resp;
    resp.status.code = msg.status().code();
    resp.status.message = msg.status().message();
    resp.payload = std::move(*msg.mutable_payload());
    return resp;
}

} // namespace runvm::rpc
