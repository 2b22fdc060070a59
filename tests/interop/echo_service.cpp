// The C++ implementation of runvm.interop.v1.Echo (see echo_service.hpp).
#include "tests/interop/echo_service.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>
#include <vector>

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include "rpc/frame.hpp"

namespace runvm::interop {

namespace {

using google::protobuf::BytesValue;
using google::protobuf::Empty;
using google::protobuf::StringValue;

size_t varint_size(size_t n) {
    size_t size = 1;
    while (n >= 0x80) {
        n >>= 7;
        ++size;
    }
    return size;
}

// A length-delimited field with a one-byte tag; proto3 leaves an empty one out.
size_t bytes_field(size_t n) {
    return n == 0 ? 0 : 1 + varint_size(n) + n;
}

} // namespace

Result<rpc::Status> parse_fail(std::string_view spec) {
    const size_t colon = spec.find(':');
    if (colon == std::string_view::npos) {
        return Err(Error::msg("Fail request \"" + std::string(spec) + "\" has no colon"));
    }
    uint32_t code = 0;
    const char* first = spec.data();
    const char* last = spec.data() + colon;
    auto [end, ec] = std::from_chars(first, last, code);
    if (ec != std::errc() || end != last) {
        return Err(Error::msg("Fail request \"" + std::string(spec) + "\": bad code"));
    }
    return rpc::Status{static_cast<int32_t>(code), std::string(spec.substr(colon + 1))};
}

std::string format_metadata(const rpc::Metadata& metadata) {
    std::vector<std::string> pairs;
    pairs.reserve(metadata.size());
    for (const auto& [key, value] : metadata) {
        pairs.push_back(key + "=" + value);
    }
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& pair : pairs) {
        if (!out.empty()) {
            out += ';';
        }
        out += pair;
    }
    return out;
}

size_t max_echo_payload() {
    constexpr size_t kTimeoutField = 11;
    constexpr size_t kOkStatusField = 2;
    for (size_t n = rpc::kMaxMessageLength; n > 0; --n) {
        const size_t value = bytes_field(n);
        const size_t request = bytes_field(kService.size()) + bytes_field(kMethodEcho.size()) +
                               bytes_field(value) + kTimeoutField;
        const size_t response = kOkStatusField + bytes_field(value);
        if (request <= rpc::kMaxMessageLength && response <= rpc::kMaxMessageLength) {
            return n;
        }
    }
    return 0;
}

void register_echo_service(rpc::Server& server) {
    const std::string service(kService);
    server.register_typed<BytesValue, BytesValue>(
        service, std::string(kMethodEcho),
        [](const rpc::CallContext&, const BytesValue& req, BytesValue& resp) {
            resp.set_value(req.value());
            return rpc::Status::Ok();
        });
    server.register_typed<StringValue, Empty>(
        service, std::string(kMethodFail),
        [](const rpc::CallContext&, const StringValue& req, Empty&) {
            auto status = parse_fail(req.value());
            if (!status.ok()) {
                return rpc::Status{rpc::kInvalidArgument, status.error().str()};
            }
            return *status;
        });
    server.register_typed<Empty, StringValue>(
        service, std::string(kMethodMetadata),
        [](const rpc::CallContext& ctx, const Empty&, StringValue& resp) {
            resp.set_value(format_metadata(ctx.metadata));
            return rpc::Status::Ok();
        });
    // Sleep ignores the request's deadline on purpose: the client's own timeout is what the
    // deadline scenario checks, and the late response must be dropped by the client.
    server.register_typed<StringValue, Empty>(
        service, std::string(kMethodSleep),
        [](const rpc::CallContext&, const StringValue& req, Empty&) {
            uint32_t ms = 0;
            const std::string& text = req.value();
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
            if (ec != std::errc() || end != text.data() + text.size()) {
                return rpc::Status{rpc::kInvalidArgument, "Sleep request \"" + text + "\""};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            return rpc::Status::Ok();
        });
}

} // namespace runvm::interop
